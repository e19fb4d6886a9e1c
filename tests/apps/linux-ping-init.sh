#!/bin/busybox sh
# /init of the Linux baseline of `./build.sh bench rpc` (tools/Tessera.Tools/Bench/LinuxPingPair.cs,
# docs/bench-rpc.md): two of these VMs share one QEMU socket netdev, the same kind of link a
# Tessera rig runs on; one answers, the other pings it back to back (`ping -A`: the next
# request leaves as soon as the reply is in) and prints every reply line for the host to parse.
#
# Everything comes from the kernel command line: words the kernel does not know that have a
# '=' and no '.' reach init as environment variables (init/main.c, unknown_bootoption):
#   bench_role=pinger|responder  bench_ip=A  bench_peer=B  bench_mtu=N
#   bench_count=N  bench_warmup=N  bench_sizes=56,4096 (ping's -s: ICMP data bytes)
# The addresses are IPv4 link-local (RFC 3927, 169.254/16): they exist on this one QEMU
# segment only, which is carried inside UDP datagrams on the host's loopback.
# Lines for the host all begin with "linux-bench: ".
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
say() { echo "linux-bench: $*"; }
stop() { sync; poweroff -f; while :; do sleep 3600; done; }   # init must never return

mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in $(cat /modules/order); do
    insmod "/modules/$m.ko" || { say "insmod $m failed"; stop; }
done
n=0
while [ ! -e /sys/class/net/eth0 ]; do
    n=$((n + 1)); [ $n -gt 100 ] && { say "no eth0 after the virtio-net driver loaded"; stop; }
    sleep 0.1
done
ip link set lo up
ip link set eth0 mtu "${bench_mtu:-1500}" || say "mtu ${bench_mtu} refused; keeping the default"
ip addr add "$bench_ip/16" dev eth0
ip link set eth0 up
say "up $bench_ip mtu $(cat /sys/class/net/eth0/mtu)"
# ping's times come from this clock: with jiffies (no TSC, no HPET) they are 4 ms steps.
say "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

if [ "$bench_role" != pinger ]; then
    say "answering pings"
    while :; do sleep 3600; done
fi

# The responder boots alongside: wait until it answers (at most about two minutes).
n=0
until ping -c 1 -W 1 "$bench_peer" >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -ge 120 ] && { say "peer $bench_peer never answered"; stop; }
done
say "peer answered"

for size in $(echo "${bench_sizes:-56}" | tr ',' ' '); do
    # Warm-up pings are not printed: ARP, caches, QEMU's translated code.
    ping -A -q -c "${bench_warmup:-1000}" -s "$size" "$bench_peer" >/dev/null 2>&1
    # Into a file, printed afterwards: writing to the serial console while pinging would put
    # the console's work inside the round trips being measured.
    ping -A -c "${bench_count:-10000}" -s "$size" "$bench_peer" >/tmp/ping.txt 2>&1
    say "begin size=$size"
    cat /tmp/ping.txt
    say "end size=$size"
done
say "done"
stop
