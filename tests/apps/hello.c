/*
 * hello: the first program the processor runs from a memory component (issue 5 item 5).
 * Prints its arguments and environment to standard output, one line to standard error,
 * and exits with status 3, so a run shows that argv, envp, both output streams and the
 * exit status all make it through. Built with `musl-gcc -static`; its output must equal
 * the same binary's output on the host, byte for byte.
 */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("hello from %s\n", argc > 0 ? argv[0] : "(no argv[0])");
    printf("argc = %d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d] = \"%s\"\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e != NULL; e++, n++) printf("envp[%d] = \"%s\"\n", n, *e);
    fprintf(stderr, "hello: %d environment strings\n", n);
    return 3;
}
