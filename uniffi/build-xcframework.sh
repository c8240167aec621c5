#!/usr/bin/env bash
# Builds MeadowFFI.xcframework for MeadowKit. Needs macOS with Xcode and the Rust iOS targets
# (aarch64-apple-ios, aarch64-apple-ios-sim); it cannot run on the Linux development machine.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in aarch64-apple-ios aarch64-apple-ios-sim aarch64-apple-darwin; do
  cargo build -p meadow-ffi --lib --release --target "$t"
done
hdr=$(mktemp -d)
cp ios/MeadowKit/Sources/MeadowKit/meadow_ffiFFI.h "$hdr/"
cp ios/MeadowKit/Sources/MeadowKit/meadow_ffiFFI.modulemap "$hdr/module.modulemap"
rm -rf ios/MeadowKit/MeadowFFI.xcframework
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libmeadow_ffi.a -headers "$hdr" \
  -library target/aarch64-apple-ios-sim/release/libmeadow_ffi.a -headers "$hdr" \
  -library target/aarch64-apple-darwin/release/libmeadow_ffi.a -headers "$hdr" \
  -output ios/MeadowKit/MeadowFFI.xcframework
