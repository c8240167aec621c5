#!/usr/bin/env bash
# Refreshes the curated screenshots in docs/screenshots/ (the ones the README shows): renders the
# app's Compose screens headless on the JVM and the web info point in headless Chromium, through
# the same tests that check them, then copies the chosen ones. The tests write every screenshot
# under target/ (ignored by git); only this command changes docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# The web pages: tests/tests/browser.rs writes them to target/screenshots/web/. Built as the
# test command builds (the whole workspace), so that the two share one build.
cargo test --workspace --locked --test browser -q
# The app's screens: android/ui's ScreensTest writes them to android/ui/target/screenshots/,
# over the library that build made.
./uniffi/generate.sh --from-test-build >/dev/null
(cd android && mvn -B -q --no-transfer-progress test -pl ui -am -Dtest=ScreensTest \
  -Dsurefire.failIfNoSpecifiedTests=false)

app=(programme-list programme-grid now-next detail detail-moved favourites changes search announcements festivals invite organiser)
web=(home day event search)
rm -rf docs/screenshots
mkdir -p docs/screenshots/app docs/screenshots/web
for name in "${app[@]}"; do
  for mode in light dark; do cp "android/ui/target/screenshots/$name-$mode.png" docs/screenshots/app/; done
done
cp android/ui/target/screenshots/programme-list-de.png android/ui/target/screenshots/detail-large-text.png \
  docs/screenshots/app/
for name in "${web[@]}"; do
  for mode in light dark; do cp "target/screenshots/web/$name-$mode.png" docs/screenshots/web/; done
done
echo "docs/screenshots: $(find docs/screenshots -name '*.png' | wc -l) screenshots, $(du -sh docs/screenshots | cut -f1)"
