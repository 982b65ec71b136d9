#!/bin/bash
# Build the LimiQuantix appliance: raw disk image (mkosi) + hybrid UEFI live ISO.
#
#   ./build.sh                 incremental build (re-uses mkosi.cache/)
#   ./build.sh --clean         from scratch: drop mkosi's caches first (packages stay cached)
#
# Environment:
#   LQX_BIN_DIR   directory with the project binaries (lqxd, lqx-console; lqx optional), e.g.
#                 ../target/release. Default: image-build/bin/.
#   LQX_VERSION   image version (IMAGE_VERSION, partition labels, UKI name). Default 0.1.0.
#   MKOSI_ARGS    extra arguments for mkosi.
#   ./build.sh --iso-only      only re-assemble the ISO from the last mkosi output
# Outputs (fixed paths): out/lqx.raw, out/lqx.iso, plus out/lqx.efi (UKI), out/lqx.usr.erofs,
# out/lqx.usr.verity (the /usr slot images), out/update/ (the same under systemd-sysupdate names).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
version=${LQX_VERSION:-0.1.0}
bindir=${LQX_BIN_DIR:-$here/bin}
clean=no mkosi=yes
case "${1:-}" in
    --clean) clean=yes ;;
    --iso-only) mkosi=no ;;   # re-assemble the ISO from the last mkosi output
    "") ;;
    *) echo "usage: $0 [--clean|--iso-only]" >&2; exit 2 ;;
esac

log() { printf '%s build.sh: %s\n' "$(date +%T)" "$*" >&2; }

# --- stage the project binaries --------------------------------------------------------------
stage=$here/mkosi.workspace/lqx-bin
rm -rf "$stage"; mkdir -p "$stage/usr/bin"
for b in lqxd lqx-console lqx; do
    if [ -f "$bindir/$b" ]; then
        install -m 0755 "$bindir/$b" "$stage/usr/bin/$b"
    elif [ "$b" != lqx ]; then
        echo "build.sh: $bindir/$b missing (set LQX_BIN_DIR)" >&2; exit 1
    fi
done

# --- mkosi ------------------------------------------------------------------------------------
t0=$(date +%s)
force=-f
[ "$clean" = yes ] && force=-ff
if [ "$mkosi" = yes ]; then
    # shellcheck disable=SC2086
    mkosi $force --image-version "$version" --extra-tree "$stage:/" ${MKOSI_ARGS:-} build
fi
t1=$(date +%s)
log "mkosi done in $((t1 - t0)) s"

o=mkosi.output
name=lqx
mkdir -p out
cp --sparse=always "$o/$name.raw" out/lqx.raw
cp "$o/$name.efi" out/lqx.efi
cp "$o/$name.usr-x86-64.raw" out/lqx.usr.erofs
cp "$o/$name.usr-x86-64-verity.raw" out/lqx.usr.verity

# --- live ISO -----------------------------------------------------------------------------------
# The ISO 9660 file system (volume id LQX_LIVE) holds the /usr slot images; the El Torito EFI boot
# image is a FAT ESP with systemd-boot and the same UKI, started by a type-1 entry whose command line
# replaces usrhash= (disk partitions) by lqx.live.usrhash= (files on the ISO, see initrd/) and adds
# root=tmpfs.
iso=mkosi.workspace/iso
rm -rf "$iso"; mkdir -p "$iso/root/lqx" "$iso/esp"
ln out/lqx.usr.erofs "$iso/root/lqx/usr.erofs" 2>/dev/null || cp out/lqx.usr.erofs "$iso/root/lqx/usr.erofs"
# The whole disk image, for the installer (lqxd --install-image). Stored zisofs-compressed: the
# kernel's isofs decompresses it transparently, and its unused ESP space costs nothing.
ln out/lqx.raw "$iso/root/lqx/lqx.raw" 2>/dev/null || cp --sparse=always out/lqx.raw "$iso/root/lqx/lqx.raw"
# The verity partition is fixed-size (room for a full slot); its tree is at the start and the rest
# is zeros: keep only what is needed (last non-zero byte + slack, rounded up to 1 MiB).
/usr/bin/python3 - out/lqx.usr.verity "$iso/root/lqx/usr.verity" <<'PY'
import sys
src, dst = sys.argv[1:]
data = open(src, "rb").read()
end = len(data.rstrip(b"\0"))
size = min(len(data), -(-(end + 65536) // 1048576) * 1048576)
open(dst, "wb").write(data[:size])
PY

cmdline=$(/usr/bin/python3 - out/lqx.efi <<'PY'
import sys, pefile
pe = pefile.PE(sys.argv[1], fast_load=True)
for s in pe.sections:
    if s.Name.rstrip(b"\0") == b".cmdline":
        print(s.get_data().rstrip(b"\0").decode().strip())
PY
)
usrhash=$(tr ' ' '\n' <<<"$cmdline" | sed -n 's/^usrhash=//p')
[ -n "$usrhash" ] || { echo "build.sh: no usrhash= in the UKI command line" >&2; exit 1; }
live_cmdline="$(sed "s/usrhash=$usrhash/lqx.live.usrhash=$usrhash/" <<<"$cmdline") root=tmpfs"

# sysupdate-ready names (see overlays/base/usr/lib/sysupdate.d): the partition UUIDs are the two
# halves of the verity root hash, as systemd-veritysetup-generator expects for usrhash=.
uuid() { sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/' <<<"$1"; }
rm -rf out/update; mkdir -p out/update
ln out/lqx.usr.erofs "out/update/lqx_${version}_$(uuid "${usrhash:0:32}").usr.raw"
ln out/lqx.usr.verity "out/update/lqx_${version}_$(uuid "${usrhash:32:32}").usr-verity.raw"
ln out/lqx.efi "out/update/lqx_${version}.efi"

esp=$iso/esp.img
uki_mb=$(( ($(stat -c %s out/lqx.efi) + 1048575) / 1048576 ))
truncate -s $(( uki_mb + 8 ))M "$esp"
mkfs.vfat -n LQX_ESP "$esp" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::EFI ::EFI/BOOT ::lqx ::loader ::loader/entries
# systemd-boot from the image's own ESP (split artifact)
mcopy -i "$o/$name.esp.raw" ::EFI/BOOT/BOOTX64.EFI "$iso/BOOTX64.EFI"
mcopy -i "$esp" "$iso/BOOTX64.EFI" ::EFI/BOOT/BOOTX64.EFI
# Not under /EFI/Linux: systemd-boot would add it with its built-in (disk) command line.
mcopy -i "$esp" out/lqx.efi ::lqx/lqx.efi
printf 'timeout 3\ndefault lqx-live.conf\n' > "$iso/loader.conf"
printf 'title LimiQuantix %s (live)\nefi /lqx/lqx.efi\noptions %s\n' "$version" "$live_cmdline" > "$iso/lqx-live.conf"
mcopy -i "$esp" "$iso/loader.conf" ::loader/loader.conf
mcopy -i "$esp" "$iso/lqx-live.conf" ::loader/entries/lqx-live.conf
cp "$esp" "$iso/root/esp.img"

rm -f out/lqx.iso
xorriso -as mkisofs -o out/lqx.iso -R -J -V LQX_LIVE \
    -e esp.img -no-emul-boot -isohybrid-gpt-basdat \
    "$iso/root" -- -zisofs level=6:block_size=128k -set_filter_r --zisofs /lqx/lqx.raw -- \
    2>&1 | grep -v '^xorriso : UPDATE' >&2
t2=$(date +%s)
log "ISO done in $((t2 - t1)) s"
ls -l out/ >&2
du -h --apparent-size out/lqx.raw out/lqx.iso >&2
du -h out/lqx.raw >&2
