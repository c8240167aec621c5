// swift-tools-version:5.9
// MeadowKit: the generated Swift bindings over the Rust core, shipped as an XCFramework built by
// `uniffi/build-xcframework.sh` on macOS (not run in CI: there is no macOS here).
import PackageDescription

let package = Package(
    name: "MeadowKit",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "MeadowKit", targets: ["MeadowKit"]),
    ],
    targets: [
        .binaryTarget(name: "meadow_ffiFFI", path: "MeadowFFI.xcframework"),
        .target(
            name: "MeadowKit",
            dependencies: ["meadow_ffiFFI"],
            path: "Sources/MeadowKit",
            exclude: [
                "meadow_coreFFI.h", "meadow_coreFFI.modulemap", "meadow_ffiFFI.h", "meadow_ffiFFI.modulemap",
            ]
        ),
    ]
)
