#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings from the compiled library. Generated files are not
# edited by hand: change the Rust side and run this again.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-debug}"
flag=""
[ "$profile" = "release" ] && flag="--release"
cargo build -p meadow-ffi --lib $flag
lib="target/$profile/libmeadow_ffi.so"
cargo run -q -p meadow-ffi --bin uniffi-bindgen -- generate --library "$lib" --language kotlin \
  --out-dir android/meadow-kotlin/src/main/kotlin --no-format
cargo run -q -p meadow-ffi --bin uniffi-bindgen -- generate --library "$lib" --language swift \
  --out-dir ios/MeadowKit/Sources/MeadowKit --no-format
echo "bindings written to android/meadow-kotlin and ios/MeadowKit"
