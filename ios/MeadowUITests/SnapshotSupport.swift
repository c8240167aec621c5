import Foundation
import XCTest

// Screenshots for `fastlane snapshot`, written from its documented conventions (not its helper):
// before launch the app gets the language, locale and launch arguments snapshot wrote to
// `~/Library/Caches/tools.fastlane/` on the Mac running the simulator; each screenshot goes to that
// folder's `screenshots/` as `<simulator name>-<name>.png`, where snapshot collects it. Outside a
// snapshot run (Xcode, `fastlane ios test`) the folder is not there and `snapshot` only logs.

/// Where `fastlane snapshot` left its settings and collects screenshots.
@MainActor
enum Snapshot {
    static var app: XCUIApplication?

    /// `$SIMULATOR_HOST_HOME/Library/Caches/tools.fastlane`, if this runs on a simulator.
    static var cacheDirectory: URL? {
        guard let home = ProcessInfo.processInfo.environment["SIMULATOR_HOST_HOME"] else { return nil }
        let dir = URL(fileURLWithPath: home).appendingPathComponent("Library/Caches/tools.fastlane")
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }

    /// A settings file's text, trimmed; nil if it is missing or empty.
    static func setting(_ file: String) -> String? {
        guard let dir = cacheDirectory,
            let text = try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
        else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The simulator's name as snapshot names the files (a clone's name without "Clone n of").
    static var deviceName: String {
        let name = ProcessInfo.processInfo.environment["SIMULATOR_DEVICE_NAME"] ?? "Simulator"
        guard let range = name.range(of: "Clone [0-9]+ of ", options: .regularExpression) else { return name }
        return name.replacingCharacters(in: range, with: "")
    }

    /// Splits snapshot's launch arguments: quoted strings stay whole.
    static func arguments(_ text: String) -> [String] {
        guard let pattern = try? NSRegularExpression(pattern: "(\\\".+?\\\"|\\S+)") else { return [] }
        let whole = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: whole).compactMap { match in
            Range(match.range, in: text).map { String(text[$0]) }
        }
    }
}

/// Gives `app` the language, locale and launch arguments of the snapshot run, before `launch()`.
@MainActor
func setupSnapshot(_ app: XCUIApplication) {
    Snapshot.app = app
    if let language = Snapshot.setting("language.txt") {
        app.launchArguments += ["-AppleLanguages", "(\(language))"]
        let locale = Snapshot.setting("locale.txt") ?? language.replacingOccurrences(of: "-", with: "_")
        app.launchArguments += ["-AppleLocale", "\"\(locale)\""]
    }
    if let extra = Snapshot.setting("snapshot-launch_arguments.txt") {
        app.launchArguments += Snapshot.arguments(extra)
    }
    app.launchArguments += ["-FASTLANE_SNAPSHOT", "YES", "-ui_testing"]
}

/// Takes a screenshot named `name` for snapshot (after the app has settled).
@MainActor
func snapshot(_ name: String) {
    print("snapshot: \(name)")
    // Let animations finish: a screenshot mid-transition is of no use in a store listing.
    Thread.sleep(forTimeInterval: 1)
    guard let dir = Snapshot.cacheDirectory?.appendingPathComponent("screenshots", isDirectory: true) else { return }
    let image = XCUIScreen.main.screenshot()
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(Snapshot.deviceName)-\(name).png")
        try image.pngRepresentation.write(to: file)
    } catch {
        print("snapshot: could not write \(name): \(error)")
    }
}
