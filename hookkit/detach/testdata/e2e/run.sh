#!/bin/bash
# Real-libvirt check of hookkit/detach (manual; about 10 s per mode, 55 s for all).
# Needs root and libvirt-daemon-driver-qemu + qemu-system-x86 (docs: /work/shared/real-libvirt.md).
# Everything happens in a private mount namespace: /etc/libvirt, /etc/passwd, /etc/group, /run and
# /var/{lib,cache,log}/libvirt are private copies, so the host and other libvirtds are untouched.
#   go build -o /tmp/hk-e2e-hook ./hookkit/detach/testdata/e2e/probe
#   unshare -m --propagation private hookkit/detach/testdata/e2e/run.sh   # MODES="detach naive inline"
set -u
W=/tmp/hk-e2e
rm -rf $W/etc $W/lib $W/cache $W/log; mkdir -p $W/etc/hooks $W/lib/qemu $W/cache $W/log
cp -a /etc/libvirt/. $W/etc/
printf 'stdio_handler = "file"\nremember_owner = 0\nnamespaces = [ ]\nuser = "root"\ngroup = "root"\n' > $W/etc/qemu.conf
install -m 0755 /tmp/hk-e2e-hook $W/etc/hooks/qemu
cp /etc/passwd $W/passwd; cp /etc/group $W/group
grep -q '^libvirt-qemu:' $W/group || echo 'libvirt-qemu:x:64055:' >> $W/group
grep -q '^libvirt-qemu:' $W/passwd || echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >> $W/passwd
mount --bind $W/passwd /etc/passwd; mount --bind $W/group /etc/group
mount --bind $W/etc /etc/libvirt
mount -t tmpfs tmpfs /run; mkdir -p /run/lock
mount --bind $W/lib /var/lib/libvirt
cp -a /var/cache/libvirt/. $W/cache/ 2>/dev/null; mount --bind $W/cache /var/cache/libvirt
mkdir -p /var/log/libvirt && mount --bind $W/log /var/log/libvirt
cd /
libvirtd > $W/libvirtd.log 2>&1 &
LPID=$!
trap 'kill -TERM $LPID; wait $LPID' EXIT
for _ in $(seq 50); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
V="virsh -c qemu:///system"
cat > $W/dom.xml <<'D'
<domain type='qemu'><name>hkdetach</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><serial type='pty'/><memballoon model='none'/></devices></domain>
D
$V define $W/dom.xml >/dev/null
for mode in ${MODES:-detach naive inline}; do
  echo "$mode" > $W/mode
  rm -f $W/detach.log $W/inline.log
  s=$(date +%s.%N)
  timeout 60 $V start hkdetach >/dev/null 2>$W/start.err; rc=$?
  e=$(date +%s.%N)
  printf '%-7s virsh start rc=%d took %.2fs\n' "$mode" $rc "$(echo "$e - $s" | bc)"
  sleep 1.5
  for f in detach inline; do [ -f $W/$f.log ] && sed "s/^/    $f.log: /" $W/$f.log; done
  [ -s $W/start.err ] && sed 's/^/    start stderr: /' $W/start.err
  $V destroy hkdetach >/dev/null 2>&1
  sleep 0.5
done
$V undefine hkdetach >/dev/null
