/*
 * hello-init: the /init of the Linux baseline guest (DESIGN §7, `./build.sh bench boot`).
 *
 * The boot benchmark times Linux from QEMU's start to the moment user space runs; this
 * program is that moment made visible. It is linked static with musl (`musl-gcc -static`)
 * so the initramfs holds nothing but this file and /dev/console: no libc to load, no
 * dynamic linker, no shell.
 *
 * The kernel starts /init with fds 0, 1 and 2 open on /dev/console (init/main.c,
 * console_on_rootfs), which is the serial port under `console=ttyS0`, so one write()
 * reaches the host. Then we ask for power-off (reboot(2), LINUX_REBOOT_CMD_POWER_OFF) so
 * QEMU can end by itself; if that fails (no ACPI under acpi=off), we wait to be killed
 * rather than return, because init returning makes the kernel panic.
 */
#include <sys/reboot.h>
#include <unistd.h>

#define LINE "hello-init: /init is running\n"

int main(void)
{
    (void)write(1, LINE, sizeof LINE - 1);
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}
