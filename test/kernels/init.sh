#!/bin/busybox sh
# The kernel matrix's guest init (PID 1 in the initramfs that run.sh builds). It loads the 9p and
# virtio modules the initramfs carries, mounts this machine's root filesystem read-only over 9p,
# unpacks the project tree into memory on top at the same path, the guest kernel's own modules where
# modprobe looks for them, then runs /cmd in a chroot and powers off. No network: the tests make
# their own namespaces and veth pairs inside the guest.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /env
for m in $(cat /modules.order); do insmod "/modules/$m" 2>/dev/null; done

r=/newroot
mkdir -p $r
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro,cache=loose" hostroot $r || { echo "KMATRIX: no host root"; poweroff -f; }
for d in tmp run var/tmp root mnt; do mount -t tmpfs tmpfs "$r/$d" 2>/dev/null; done
# The project tree arrives as the tar run.sh packed; it is unpacked into memory at its own path
# below (one big read over 9p instead of thousands of small ones).
mkdir -p "$r/mnt/project"
mount -t 9p -o "$opts,ro" project "$r/mnt/project" || { echo "KMATRIX: no project"; poweroff -f; }
# The guest kernel's modules, preloaded with the host's modprobe (this machine has no
# /lib/modules of its own to mount them on; /mnt is hidden in the guest instead).
mkdir -p "$r/mnt/lib/modules/$RELEASE"
mount -t 9p -o "$opts,ro" modules "$r/mnt/lib/modules/$RELEASE"
mount --move /proc $r/proc
mount --move /sys $r/sys
mount --move /dev $r/dev
mkdir -p $r/dev/shm $r/dev/pts
mount -t tmpfs tmpfs $r/dev/shm
mount -t devpts devpts $r/dev/pts 2>/dev/null
mount -t bpf bpf $r/sys/fs/bpf
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null
mount -t tracefs tracefs $r/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
# As on a booted system: the kernel's lockdown mode is read from here (/sys/kernel/security/lockdown).
mount -t securityfs securityfs $r/sys/kernel/security 2>/dev/null
# The project, unpacked (after /proc: tar sets directory modes through /proc/self/fd)
# (The path may lie under a directory made a tmpfs above, such as a clone in /tmp: make it there.)
mkdir -p "$r$PROJECT" 2>/dev/null
mount -t tmpfs tmpfs "$r$PROJECT"
chroot $r /usr/bin/tar -C "$PROJECT" -xf "/mnt/project/$TREE" || { echo "KMATRIX: cannot unpack the project"; poweroff -f; }
umount "$r/mnt/project"
cp /cmd $r/tmp/kmatrix-cmd
for m in veth sch_ingress cls_bpf act_bpf; do chroot $r /sbin/modprobe -d /mnt "$m" 2>/dev/null; done

echo "KMATRIX-BOOTED $(cat $r/proc/uptime)"
chroot $r /usr/bin/env -i HOME=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM=dumb CI=1 NO_COLOR=1 LIBBPF_NODE_TEST_SLOW="$SLOW" /bin/sh -c "cd '$PROJECT' && ip link set lo up; . /tmp/kmatrix-cmd"
echo "KMATRIX-RC=$?"
sync
poweroff -f
