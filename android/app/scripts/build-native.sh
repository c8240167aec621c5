#!/usr/bin/env bash
# Builds libmeadow_ffi.so for the app's three ABIs with cargo-ndk and puts them where Gradle
# packages them (app/src/main/jniLibs/<abi>/). Needs the Android NDK (ANDROID_NDK_HOME) and:
#   cargo install cargo-ndk
#   rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
profile="${1:-release}"
flag=""
[ "$profile" = "release" ] && flag="--release"
cd "$root"
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 --platform 26 -o "$here/app/src/main/jniLibs" build -p meadow-ffi --lib $flag
ls -l "$here"/app/src/main/jniLibs/*/libmeadow_ffi.so
