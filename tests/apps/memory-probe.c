/*
 * memory-probe: the program the memory service's tests exec
 * (tests/Tessera.Tests/Host/Memory/MemoryServiceTests.cs, tests/Tessera.Tests/Rig/
 * MemoryServiceRigTests.cs). Linked static with musl (`musl-gcc -static`), it gives the ELF
 * loader every kind of page: text, read-only data, initialised data whose last page runs
 * into bss, and whole pages of bss. Run anywhere, it is an ordinary program: it touches its
 * bss through its arguments and prints a checksum of what it touched.
 */
#include <stdio.h>
#include <string.h>

const char greeting[] = "memory-probe";
int table[1024] = { 1, 2, 3 };   /* data: 4 KiB of initialised words */
char scratch[16 * 4096];         /* bss: 16 whole pages */

int main(int argc, char **argv)
{
    unsigned long sum = 0;
    for (int i = 0; i < argc; i++)
        scratch[(unsigned)i * 4099u % sizeof scratch] = (char)strlen(argv[i]);
    for (unsigned i = 0; i < sizeof scratch; i++)
        sum += (unsigned char)scratch[i];
    for (int i = 0; i < 1024; i++)
        sum += (unsigned long)table[i];
    printf("%s: argc %d, sum %lu\n", greeting, argc, sum);
    return 0;
}
