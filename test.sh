#!/usr/bin/env bash
# The whole test suite: Rust (unit, property, integration, crash, network on loopback), then the
# apps' Kotlin on the desktop JVM against the real library: the bindings and presentation state,
# the Compose screens (headless, writing screenshots to android/ui/target/screenshots/, and the
# desktop window once under Xvfb) and the Android-only glue under Robolectric; then the iOS app's
# Swift (MeadowKit's tests with Swift 6, lint and checks of the rest) and the fastlane files.
# Prints one total.
set -uo pipefail
cd "$(dirname "$0")"
# Installs what is missing (Chromium, Xvfb, xmllint, Python's icalendar and jsonschema, ...); quiet
# when everything is there.
scripts/install-deps.sh || { echo "scripts/install-deps.sh failed: see above"; exit 1; }
log=$(mktemp)
status=0

cargo test --workspace --locked 2>&1 | tee "$log" || status=1

# The Kotlin tests load the real libmeadow_ffi.so through generated bindings, which must match it.
if [ "$status" = 0 ]; then
  ./uniffi/generate.sh --from-test-build >/dev/null 2>&1 || { echo "binding generation failed"; status=1; }
  if ! git diff --quiet -- android/meadow-kotlin/src/main ios/MeadowKit/Sources 2>/dev/null; then
    echo "generated bindings are stale: run uniffi/generate.sh and commit the result"
    git --no-pager diff --stat -- android/meadow-kotlin/src/main ios/MeadowKit/Sources
    status=1
  fi
  (cd android && mvn -B --no-transfer-progress test) 2>&1 | tee -a "$log" || status=1
  # The iOS app's Swift with a real Swift 6 compiler in a Debian trixie root (built once, cached):
  # MeadowKit's XCTest suite against the same library, then lint, parse, symbol and String
  # Catalog checks of every hand-written Swift file, the app's views included.
  scripts/test-swift.sh 2>&1 | tee -a "$log" || status=1
fi
# fastlane: ruby -c of the Fastfile, Appfile, Snapfile and Gemfile, and both stores' metadata.
scripts/check-fastlane.sh || status=1

awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^\[(INFO|ERROR|WARNING)\] Tests run:/ && !/ in / { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "run:") r += $(i+1); if ($i == "Failures:") mf += $(i+1); if ($i == "Errors:") mf += $(i+1); if ($i == "Skipped:") ms += $(i+1) } }
  /^swift tests: [0-9]+ passed, [0-9]+ failed/ { p += $3; f += $5 }
  END { printf "tests: %d passed, %d failed\n", p + r - mf - ms, f + mf }' "$log"
rm -f "$log"
exit "$status"
