#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings from the compiled library. Generated files are not
# edited by hand: change the Rust side and run this again.
#
#   uniffi/generate.sh [debug|release]   builds the library and the bindgen, then generates
#   uniffi/generate.sh --from-test-build  uses what `cargo test --workspace` just built (the test
#                                         command does: a separate build would compile every
#                                         dependency again, with other features)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--from-test-build" ]; then
  # The test build leaves the cdylib in deps/; the JVM tests load it from target/debug.
  cp target/debug/deps/libmeadow_ffi.so target/debug/libmeadow_ffi.so
  lib="target/debug/libmeadow_ffi.so"
  bindgen=(target/debug/uniffi-bindgen)
else
  profile="${1:-debug}"
  flag=""
  [ "$profile" = "release" ] && flag="--release"
  cargo build -p meadow-ffi --lib --bin uniffi-bindgen $flag
  lib="target/$profile/libmeadow_ffi.so"
  bindgen=("target/$profile/uniffi-bindgen")
fi
"${bindgen[@]}" generate --library "$lib" --language kotlin \
  --out-dir android/meadow-kotlin/src/main/kotlin --no-format
"${bindgen[@]}" generate --library "$lib" --language swift \
  --out-dir ios/MeadowKit/Sources/MeadowBindings --no-format
echo "bindings written to android/meadow-kotlin and ios/MeadowKit"
