import Foundation
import XCTest

@testable import MeadowKit

/// A node in a fresh temporary folder.
func freshNode() throws -> MeadowNode {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meadow-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return try MeadowNode.open(dataDir: dir.path)
}

/// A schedule from the repository's shared fixtures (tests/fixtures).
func fixture(_ name: String) throws -> Data {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    return try Data(contentsOf: root.appendingPathComponent("tests/fixtures/\(name)"))
}

/// Waits (at most `seconds`) until `check` holds; fails the test with `what` if it never does.
func eventually(
    isolation: isolated (any Actor)? = #isolation,
    _ what: String, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line,
    _ check: () async throws -> Bool
) async rethrows {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await check() { return }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    XCTFail("timed out waiting for \(what)", file: file, line: line)
}

/// Friday 10 July 2026, 20:30 in Berlin: inside the fixture festival.
let fridayEvening: Int64 = 1_783_708_200
