#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, a JDK with Maven and Python, on Debian or Ubuntu,
# and nothing when it is all there (then it prints nothing). Called by ./test.sh and .ci/run; safe
# to run again. Needs root (or sudo) only when something is missing.
#
#   Debian packages: a C compiler (the bundled SQLite and libdbus are compiled from source),
#     xvfb and a font (the desktop window is tested once in a real X server), xmllint (schedule.xml
#     against the C3VOC XSD), Chromium and chromedriver (the web pages in a real browser),
#     iproute2 (two nodes on a LAN in network namespaces), ruby (`ruby -c` on the fastlane files,
#     scripts/check-fastlane.sh), and Maven / JDK 17 / Python if absent.
#   Python packages (pip, pinned): icalendar (an independent parser of Meadow's iCalendar),
#     jsonschema with rfc3987 and rfc3339-validator (schedule.json against the C3VOC schema),
#     tree-sitter with tree-sitter-swift (parses the iOS app's Swift that cannot compile here).
#   Swift 6: scripts/install-swift.sh (swiftlang in a Debian trixie root, built once and cached).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    echo "install-deps: need root to run: $*" >&2
    exit 1
  fi
}

missing=()
have cc || missing+=(build-essential)
have mvn || missing+=(maven)
have javac || missing+=(openjdk-17-jdk-headless)
have python3 || missing+=(python3 python3-pip)
have xvfb-run || missing+=(xvfb)
{ have fc-list && fc-list 2>/dev/null | grep -q .; } || missing+=(fontconfig fonts-dejavu-core)
have xmllint || missing+=(libxml2-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
have ip || missing+=(iproute2)
have ruby || missing+=(ruby)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]} (Debian packages)"
  log=$(mktemp)
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

pip_pkgs=(icalendar==6.1.0 jsonschema==4.26.0 rfc3987==1.3.8 rfc3339-validator==0.1.4
  tree-sitter==0.25.2 tree-sitter-swift==0.7.4)
if ! python3 -c "import icalendar, jsonschema, rfc3987, rfc3339_validator, tree_sitter, tree_sitter_swift" 2>/dev/null; then
  echo "install-deps: installing ${pip_pkgs[*]} (pip)"
  # A Debian Python refuses plain pip installs (PEP 668); a user's or pyenv's Python takes them.
  python3 -m pip install --quiet --disable-pip-version-check "${pip_pkgs[@]}" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${pip_pkgs[@]}"
  python3 -c "import icalendar, jsonschema, rfc3987, rfc3339_validator, tree_sitter, tree_sitter_swift"
fi

# Swift 6 for the iOS app's Swift (a Debian trixie root with swiftlang; cached after the first run).
"$(dirname "$0")/install-swift.sh"
