#!/bin/sh
# Install the host tools needed to build the LimiQuantix appliance image on Debian bookworm.
# Idempotent: adds bookworm-backports once, installs only what is missing.
set -eu

[ "$(id -u)" -eq 0 ] || { echo "setup-host.sh: run as root" >&2; exit 1; }

APT="apt-get -o DPkg::Lock::Timeout=600"
BACKPORTS="mkosi systemd systemd-container systemd-boot systemd-boot-efi libsystemd-dev"
# kmod (depmod, modinfo) is needed by mkosi for the kernel modules initrd and is not pulled in.
STABLE="bubblewrap python3-pefile dosfstools mtools e2fsprogs erofs-utils cpio zstd xz-utils
xorriso debian-archive-keyring qemu-system-x86 ovmf
kmod"

missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
    done
}

# mkosi 24.3 needs systemd >= 254 on the host, i.e. the backports versions. libsystemd-dev
# (lqxd links libsystemd) must then come from there too: bookworm's wants bookworm's libsystemd0.
need_backports() {
    [ -n "$(missing $BACKPORTS)" ] && return 0
    v=$(dpkg-query -W -f='${Version}' systemd)
    dpkg --compare-versions "$v" lt 254
}

SRC=/etc/apt/sources.list.d/bookworm-backports.sources
updated=no
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > "$SRC" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi

if need_backports || [ -n "$(missing $STABLE)" ]; then
    $APT update
    updated=yes
fi

if need_backports; then
    DEBIAN_FRONTEND=noninteractive $APT install -y --no-install-recommends \
        -t bookworm-backports $BACKPORTS
fi

m=$(missing $STABLE)
# qemu-system-x86 must match an already installed qemu-utils: if the host has qemu-utils from
# backports, bookworm's qemu-system-common (7.2) is refused ("qemu-utils Breaks ...").
case "$m" in *qemu-system-x86*)
    if dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q 'bpo'; then
        m=$(echo "$m" | grep -v '^qemu-system-x86$' || true)
        DEBIAN_FRONTEND=noninteractive $APT install -y --no-install-recommends \
            qemu-system-x86/bookworm-backports qemu-system-common/bookworm-backports \
            qemu-system-data/bookworm-backports seabios/bookworm-backports
    fi
esac
if [ -n "$m" ]; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $APT install -y --no-install-recommends $m
fi
# QEMU's rbd block driver (VM disks on Ceph in the tests' libvirtd) must be exactly QEMU's
# version, wherever QEMU came from.
if [ -n "$(missing qemu-block-extra)" ]; then
    [ "$updated" = yes ] || { $APT update; updated=yes; }
    DEBIAN_FRONTEND=noninteractive $APT install -y --no-install-recommends \
        "qemu-block-extra=$(dpkg-query -W -f='${Version}' qemu-system-x86)"
fi

echo "setup-host.sh: ok (apt update: $updated); mkosi $(mkosi --version 2>/dev/null | awk '{print $2}')," \
     "systemd $(dpkg-query -W -f='${Version}' systemd)"
