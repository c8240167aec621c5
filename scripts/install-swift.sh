#!/usr/bin/env bash
# Installs the Swift 6 toolchain the iOS app's Swift is checked with: Debian 12 packages no Swift,
# Debian 13 (trixie) packages swiftlang 6.0.3, so this builds a trixie root with debootstrap and
# installs swiftlang (with Foundation, XCTest and swift-format) into it. About 2.5 GB and 90 s,
# once: the root is cached in $MEADOW_SWIFT_ROOT (default ~/.cache/meadow/swift-trixie) and
# reused while it is complete. Called by scripts/install-deps.sh; safe to run again. Needs root,
# or sudo.
set -euo pipefail
root="${MEADOW_SWIFT_ROOT:-$HOME/.cache/meadow/swift-trixie}"
[ -x "$root/usr/libexec/swift/bin/swift" ] && [ -f "$root/.meadow-ready" ] && exit 0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The Debian mirror this machine already uses (a deb822 or one-line source), else Debian's own.
mirror() {
  local m
  m=$(grep -hoE '^(URIs:[[:space:]]*|deb[[:space:]]+)(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+' \
    /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | grep -v security | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

echo "swift: building the Swift 6 root in $root (once; about 2 minutes)"
if ! command -v debootstrap >/dev/null && ! [ -x /usr/sbin/debootstrap ]; then
  as_root env DEBIAN_FRONTEND=noninteractive bash -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap' >/dev/null
fi
# Never delete through a mount: a root left from an interrupted run may still have /proc.
if mountpoint -q "$root/proc" 2>/dev/null; then as_root umount "$root/proc"; fi
as_root rm -rf --one-file-system "$root"
mkdir -p "$(dirname "$root")"
log=$(mktemp)
# This machine's mirror first (MEADOW_DEBIAN_MIRROR overrides it), then Debian's own: a mirror
# pinned to an old snapshot, or one that carries only this machine's release, may lack trixie.
made=0
for m in "${MEADOW_DEBIAN_MIRROR:-$(mirror)}" http://deb.debian.org/debian; do
  if as_root env PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase trixie "$root" "$m" >"$log" 2>&1; then
    made=1
    break
  fi
  echo "swift: debootstrap from $m failed; $(tail -1 "$log")" >&2
  if mountpoint -q "$root/proc" 2>/dev/null; then as_root umount "$root/proc"; fi
  as_root rm -rf --one-file-system "$root"
done
if [ "$made" != 1 ]; then
  tail -20 "$log" >&2; rm -f "$log"; echo "swift: debootstrap failed" >&2; exit 1
fi
if ! as_root chroot "$root" env DEBIAN_FRONTEND=noninteractive bash -c \
  'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang libc6-dev' >"$log" 2>&1; then
  tail -20 "$log" >&2; rm -f "$log"; echo "swift: installing swiftlang in the root failed" >&2; exit 1
fi
rm -f "$log"
as_root touch "$root/.meadow-ready"
