import MeadowKit
import SwiftUI
import VisionKit

/// Scans a Meadow invite QR code with VisionKit's data scanner; hands over the first code that
/// `DeepLink.parse` reads. Where the scanner is missing (no camera, older hardware, the
/// simulator) it says so.
struct QRScannerSheet: View {
    let onScanned: (DeepLink) -> Void
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        NavigationStack {
            Group {
                if DataScannerViewController.isSupported && DataScannerViewController.isAvailable {
                    QRScanner { link in
                        onScanned(link)
                        dismiss()
                    }
                    .ignoresSafeArea(edges: .bottom)
                    .accessibilityIdentifier("qr-scanner")
                } else {
                    ContentUnavailableView(
                        "Scanning is not available on this device",
                        systemImage: "qrcode.viewfinder",
                        description: Text("Paste the invite link instead."))
                }
            }
            .navigationTitle("Scan QR code")
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { dismiss() }
                }
            }
        }
    }
}

/// VisionKit's `DataScannerViewController` for QR codes.
struct QRScanner: UIViewControllerRepresentable {
    let onScanned: (DeepLink) -> Void

    func makeCoordinator() -> Coordinator { Coordinator(onScanned: onScanned) }

    func makeUIViewController(context: Context) -> DataScannerViewController {
        let scanner = DataScannerViewController(
            recognizedDataTypes: [.barcode(symbologies: [.qr])], qualityLevel: .balanced,
            recognizesMultipleItems: false, isHighFrameRateTrackingEnabled: false, isHighlightingEnabled: true)
        scanner.delegate = context.coordinator
        return scanner
    }

    func updateUIViewController(_ scanner: DataScannerViewController, context: Context) {
        if !scanner.isScanning { try? scanner.startScanning() }
    }

    static func dismantleUIViewController(_ scanner: DataScannerViewController, coordinator: Coordinator) {
        scanner.stopScanning()
    }

    /// Hears what the scanner recognises; the first Meadow link wins.
    @MainActor
    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        private let onScanned: (DeepLink) -> Void
        private var done = false

        init(onScanned: @escaping (DeepLink) -> Void) { self.onScanned = onScanned }

        func dataScanner(
            _ dataScanner: DataScannerViewController, didAdd addedItems: [RecognizedItem], allItems: [RecognizedItem]
        ) {
            guard !done else { return }
            for item in addedItems {
                guard case .barcode(let code) = item, let text = code.payloadStringValue,
                    let link = DeepLink.parse(text)
                else { continue }
                done = true
                dataScanner.stopScanning()
                onScanned(link)
                return
            }
        }
    }
}
