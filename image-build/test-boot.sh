#!/bin/bash
# LQX_TEST_CMDLINE adds kernel arguments (UKI without Secure Boot), e.g. systemd.journald.forward_to_console=1.
# Boot test under QEMU (TCG; KVM does not work on the build machines): boots out/lqx.raw (grown
# copy) or out/lqx.iso (as CD-ROM) with OVMF, serial console to a log file, and waits for the
# stand-in lqxd marker. Prints seconds from QEMU start to marker.
#
#   ./test-boot.sh raw [WORKDIR]    first boot of a fresh 8G copy (slots: 2x(2G+160M) + ESP + >=1G state) of the disk image
#   ./test-boot.sh reboot [WORKDIR] boot the same disk again (state must persist)
#   ./test-boot.sh iso [WORKDIR]    live boot from the ISO
# LQX_TEST_HOLD: seconds to keep the guest running after the first marker (default 3).
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-raw}
w=${2:-mkosi.workspace/test}
timeout=${LQX_TEST_TIMEOUT:-400}
mkdir -p "$w"
case "$mode" in
    raw)
        rm -f "$w/disk.raw"
        cp --sparse=always out/lqx.raw "$w/disk.raw"
        truncate -s 8G "$w/disk.raw"
        cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars.fd"
        media=(-drive "file=$w/disk.raw,format=raw,if=virtio") ;;
    reboot)
        media=(-drive "file=$w/disk.raw,format=raw,if=virtio") ;;
    iso)
        cp /usr/share/OVMF/OVMF_VARS.fd "$w/vars-iso.fd"
        media=(-drive "file=out/lqx.iso,format=raw,if=none,media=cdrom,id=cd,readonly=on"
               -device virtio-scsi-pci -device scsi-cd,drive=cd) ;;
    *) echo "usage: $0 raw|reboot|iso [WORKDIR]" >&2; exit 2 ;;
esac
vars=$w/vars.fd; [ "$mode" = iso ] && vars=$w/vars-iso.fd
log=$w/serial-$mode.log
rm -f "$log"
start=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -machine q35 -m 2048 -smp 2 -display none -monitor none \
    -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd \
    -drive "if=pflash,format=raw,file=$vars" \
    -nic user,model=virtio-net-pci \
    ${LQX_TEST_CMDLINE:+-smbios "type=11,value=io.systemd.stub.kernel-cmdline-extra=$LQX_TEST_CMDLINE"} \
    "${media[@]}" -serial "file:$log" &
qpid=$!
trap 'kill $qpid 2>/dev/null || true' EXIT
while :; do
    if grep -q 'LQXD-MARKER 1 ' "$log" 2>/dev/null; then break; fi
    now=$(date +%s.%N)
    if (( $(echo "$now - $start > $timeout" | bc) )); then echo "TIMEOUT after ${timeout}s"; tail -40 "$log"; exit 1; fi
    if ! kill -0 $qpid 2>/dev/null; then echo "QEMU exited"; tail -40 "$log"; exit 1; fi
    sleep 1
done
t=$(echo "$(date +%s.%N) - $start" | bc)
echo "marker seen ${t} s after QEMU start"
sleep "${LQX_TEST_HOLD:-3}"   # keep the guest running a little (console output, watchdog)
grep -a 'LQXD-DIAG\|LQXD-MARKER\|LQX CONSOLE\|atchdog' "$log" | tr -d '\r'
