#!/bin/bash
# Checks `hookkit run` and `hookkit install` against a real libvirtd (Debian 12: libvirt 9.0), by hand:
#
#   go build -o /tmp/hk/hookkit ./cmd/hookkit && go build -o /tmp/hk/kithook ./cmd/hookkit/testdata/kithook
#   sudo unshare -m -n --propagation private cmd/hookkit/testdata/reallibvirt.sh /tmp/hk
#
# Needs root and the packages of /work/shared/real-libvirt.md. It runs inside its own mount and network
# namespace (the unshare above): /etc/libvirt, /run, /var/lib/libvirt, ... are private copies, so the host's
# libvirt is neither read nor changed. It checks that
#   1. a qemu hook installed after libvirtd started does not run until SIGHUP (install's reload advice);
#   2. libvirt's error for a failing hook, a script without #! and a missing interpreter is byte for byte
#      what `hookkit run` prints.
set -u
BIN=${1:?usage: reallibvirt.sh DIR-WITH-hookkit-AND-kithook}
HK=$BIN/hookkit
W=$(mktemp -d /tmp/hookkit-reallibvirt.XXXXXX)
fail=0
check() { if [ "$1" = "$2" ]; then echo "PASS $3"; else echo "FAIL $3"; echo "  libvirt: $1"; echo "  hookkit: $2"; fail=1; fi; }

mkdir -p $W/etc $W/run $W/lib $W/log/qemu $W/log/lxc $W/cache
cp -a /etc/libvirt/. $W/etc/
rm -rf $W/etc/hooks
printf 'stdio_handler = "file"\nremember_owner = 0\nnamespaces = [ ]\nuser = "root"\ngroup = "root"\n' >$W/etc/qemu.conf
cp /etc/passwd $W/passwd; cp /etc/group $W/group
grep -q '^libvirt-qemu:' $W/passwd || echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >>$W/passwd
grep -q '^libvirt-qemu:' $W/group || echo 'libvirt-qemu:x:64055:' >>$W/group
mount --bind $W/etc /etc/libvirt
mount --bind $W/passwd /etc/passwd
mount --bind $W/group /etc/group
mount -t tmpfs tmpfs /run && mkdir -p /run/libvirt /run/lock && mount --bind $W/run /run/libvirt
mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
mount --bind $W/lib /var/lib/libvirt
mount --bind $W/log /var/log/libvirt
mount --bind $W/cache /var/cache/libvirt
ip link set lo up
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd /
libvirtd >$W/libvirtd.log 2>&1 &
PID=$!
for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
V="virsh -q -c qemu:///system"
cat >$W/dom.xml <<'X'
<domain type='qemu'><name>deny-web</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><serial type='pty'/><memballoon model='none'/></devices></domain>
X
$V define $W/dom.xml >/dev/null

$HK install $BIN/kithook --driver qemu --dir /etc/libvirt/hooks | grep -q "reload: qemu had no hook before: reload libvirtd (pid $PID)" \
	&& echo "PASS install names libvirtd (pid $PID) for the reload" || { echo "FAIL install reload advice"; fail=1; }
if $V start deny-web >/dev/null 2>&1; then echo "PASS before SIGHUP the new hook does not run"; $V destroy deny-web >/dev/null; else echo "FAIL the hook ran before SIGHUP"; fail=1; fi
kill -HUP $PID; sleep 1

compare() { # $1: what
	local real sim
	real=$($V start deny-web 2>&1 | sed -n 's/^error: \(Hook script execution failed.*\)/\1/p')
	$V dumpxml deny-web >$W/dumped.xml
	sim=$($HK run /etc/libvirt/hooks/qemu --xml $W/dumped.xml -- qemu deny-web prepare begin - | sed -n 's/^libvirt: //p')
	check "$real" "$sim" "$1"
}
compare "a hookkit hook refusing the start"
$HK uninstall --dir /etc/libvirt/hooks >/dev/null
printf 'echo no shebang\n' >/etc/libvirt/hooks/qemu && chmod 755 /etc/libvirt/hooks/qemu
compare "a script without #! (exit 126)"
printf '#!/no/such/interpreter\n' >/etc/libvirt/hooks/qemu
compare "a missing interpreter (exit 127)"

$V undefine deny-web >/dev/null
kill -TERM $PID; wait $PID
rm -rf $W
exit $fail
