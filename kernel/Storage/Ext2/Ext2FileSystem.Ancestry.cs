// Whether one directory lies on another's path to the root: rename(2)'s loop checks need it
// from outside the namespace operations too (the file service refuses to rename a name onto
// one of its own ancestors, which Linux answers with -ENOTEMPTY before anything else).
namespace Tessera.Storage.Ext2
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>1 when directory ancestor is dir or one of its ancestors (walking ".."), 0 when not, or a negative errno.</summary>
        public int IsAncestorOrSelf(uint ancestor, uint dir) => IsSelfOrAncestor(ancestor, dir);
    }
}
