#!/usr/bin/env bash
# Builds MeadowFFI.xcframework for MeadowKit. Needs macOS with Xcode and the Rust iOS targets
# (aarch64-apple-ios, aarch64-apple-ios-sim); it cannot run on the Linux development machine.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in aarch64-apple-ios aarch64-apple-ios-sim aarch64-apple-darwin; do
  cargo build -p meadow-ffi --lib --release --target "$t"
done
hdr=$(mktemp -d)
# Two uniffi components live in the one library: the core's read models (meadow_core) and the
# node API (meadow_ffi). Both C modules go into the framework's one module map.
src=ios/MeadowKit/Sources/MeadowBindings
cp "$src/meadow_coreFFI.h" "$src/meadow_ffiFFI.h" "$hdr/"
cat "$src/meadow_coreFFI.modulemap" "$src/meadow_ffiFFI.modulemap" > "$hdr/module.modulemap"
rm -rf ios/MeadowKit/MeadowFFI.xcframework
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libmeadow_ffi.a -headers "$hdr" \
  -library target/aarch64-apple-ios-sim/release/libmeadow_ffi.a -headers "$hdr" \
  -library target/aarch64-apple-darwin/release/libmeadow_ffi.a -headers "$hdr" \
  -output ios/MeadowKit/MeadowFFI.xcframework
