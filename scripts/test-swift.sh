#!/usr/bin/env bash
# The iOS app's Swift, checked with a real Swift 6 compiler (Debian's swiftlang 6.0.3 in a Debian
# trixie root: this machine's Debian packages no Swift). Called by ./test.sh after the Rust tests,
# which build the libmeadow_ffi.so that MeadowKit links.
#
#   1. MeadowKit (ios/MeadowKit) builds in the Swift 6 language mode and its XCTest suite runs
#      against the real library; prints `swift tests: N passed, M failed` for the closing total.
#   2. Every hand-written .swift file (the SwiftUI app and the Apple-only glue included, which
#      cannot compile without Apple's SDKs) passes `swift format lint` with ios/.swift-format and
#      parses with tree-sitter-swift; every MeadowKit symbol the app calls exists in the compiled
#      module; every text the views show is in the String Catalog in English and German
#      (scripts/swift_app_check.py).
#
# The root is built once (debootstrap, then swiftlang: about 2.5 GB, 90 s) and cached in
# $MEADOW_SWIFT_ROOT (default ~/.cache/meadow/swift-trixie). Needs root, or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${MEADOW_SWIFT_ROOT:-$HOME/.cache/meadow/swift-trixie}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The root is the install step's (scripts/install-swift.sh); quick when it is there.
scripts/install-swift.sh

mounted=0
if ! mountpoint -q "$root/proc"; then
  as_root mount -t proc proc "$root/proc"
  mounted=1
fi
cleanup() { if [ "$mounted" = 1 ]; then as_root umount "$root/proc" || true; fi; }
trap cleanup EXIT

# The sources and the library go into the root (hard links where they can, a copy where not);
# the build folder stays there between runs, so a second run compiles only what changed.
work="$root/work/meadow"
as_root mkdir -p "$work/lib" "$work/tests"
as_root rm -rf "$work/ios" "$work/tests/fixtures"
as_root cp -a ios "$work/ios"
as_root cp -a tests/fixtures "$work/tests/fixtures"
# The newest build of the library: `cargo test` leaves it in deps/, generate.sh copies it up.
lib=$(ls -t target/debug/libmeadow_ffi.so target/debug/deps/libmeadow_ffi.so 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "swift: no libmeadow_ffi.so: run cargo test --workspace first" >&2; exit 1; }
as_root ln -f "$lib" "$work/lib/libmeadow_ffi.so" 2>/dev/null || as_root cp "$lib" "$work/lib/libmeadow_ffi.so"

in_root() { as_root chroot "$root" env HOME=/root LANG=C.UTF-8 bash -c "$1"; }

status=0
log=$(mktemp)
# --allow-shlib-undefined: Debian's swiftlang 6.0.3 ships a libswiftObservation.so that refers to
# swift::threading::fatal, which none of its libraries exports (the Observation runtime's crash
# path); the library binds lazily, so everything else runs.
# A hung test must not hang CI: the whole build and run gets 20 minutes.
in_root 'cd /work/meadow/ios/MeadowKit && LD_LIBRARY_PATH=/work/meadow/lib timeout 1200 swift test \
  --scratch-path /work/build -Xlinker -L/work/meadow/lib -Xlinker --allow-shlib-undefined \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc /work/symbols 2>&1' | tee "$log" || status=1
# XCTest's last "Executed" line is the total of all suites.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1 || true)
passed=0
failed=0
if [ -n "$summary" ]; then
  ran=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
  passed=$((ran - failed))
fi
[ "$status" = 0 ] || [ "$failed" -gt 0 ] || failed=1
rm -f "$log"
echo "swift tests: $passed passed, $failed failed"

# Lint and parse every hand-written file (the generated bindings are uniffi's, not ours).
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'ios/*.swift' \
  | grep -v '^ios/MeadowKit/Sources/MeadowBindings/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
rel=$(printf ' /work/meadow/%s' "${files[@]}")
if in_root "swift format lint --strict --configuration /work/meadow/ios/.swift-format $rel 2>&1"; then
  echo "swift format lint: ok (${#files[@]} files)"
else
  echo "swift format lint: the files above are not formatted (run swift format -i with ios/.swift-format)"
  status=1
fi
python3 scripts/swift_app_check.py --self-test --symbols "$root/work/symbols" "${files[@]}" || status=1
exit "$status"
