import MeadowKit
import SwiftUI

/// Meadow on iOS: one `AppModel` over one `MeadowNode`, the screens over it, and the device glue
/// (Bluetooth, Multipeer, notifications) following whichever festival is open.
@main
struct MeadowApp: App {
    @State private var launch: Launch
    @Environment(\.scenePhase) private var scenePhase

    init() {
        _launch = State(initialValue: Launch.start())
    }

    var body: some Scene {
        WindowGroup {
            switch launch {
            case .ready(let app, let device):
                RootView()
                    .environment(app)
                    .environment(device)
                    .onOpenURL { url in device.open(url, app: app) }
                    .onChange(of: scenePhase) { _, phase in device.scene(phase, app: app) }
                    .task { await device.started(app: app) }
            case .failed(let reason):
                StartFailedView(reason: reason)
            }
        }
    }
}

/// How the app started: with its node, or not (the data directory could not be opened).
@MainActor
enum Launch {
    case ready(AppModel, DeviceServices)
    case failed(String)

    /// The UI tests start the app with `-meadow-demo`: a fresh store holding the demo festival.
    static var isDemo: Bool { ProcessInfo.processInfo.arguments.contains("-meadow-demo") }

    static func start() -> Launch {
        do {
            let dir = try dataDirectory()
            let node = try MeadowNode.open(dataDir: dir.path)
            let app = AppModel(node: node)
            let device = DeviceServices(node: node, radios: !isDemo)
            if isDemo {
                Task { _ = await app.createDemo(start: today()) }
            }
            return .ready(app, device)
        } catch let error as MeadowError {
            return .failed(error.reason)
        } catch {
            return .failed(error.localizedDescription)
        }
    }

    /// Application Support/Meadow, or a fresh temporary directory for the demo.
    private static func dataDirectory() throws -> URL {
        let files = FileManager.default
        let dir: URL
        if isDemo {
            dir = files.temporaryDirectory.appendingPathComponent("meadow-demo-\(UUID().uuidString)")
        } else {
            let support = try files.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            dir = support.appendingPathComponent("Meadow", isDirectory: true)
        }
        try files.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Today as `YYYY-MM-DD` on the phone's calendar.
    static func today() -> String {
        let f = DateFormatter()
        f.calendar = Calendar(identifier: .gregorian)
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date())
    }
}

/// What shows when the store cannot be opened: the reason, nothing else to do.
struct StartFailedView: View {
    let reason: String

    var body: some View {
        ContentUnavailableView {
            Label("Meadow could not start", systemImage: "exclamationmark.triangle")
        } description: {
            Text(reason)
        }
    }
}
