import CoreBluetooth
import Foundation
import MeadowKit

/// Bluetooth's state as the sync screen tells it.
enum BluetoothPower: Sendable, Equatable {
    case unknown
    case on
    case off
    case unauthorized
    case unsupported
}

/// Bluetooth LE for one festival: MeadowKit's `ProximityRadio` (every decision) over the CoreBluetooth
/// glue below (only bytes), with the timer the radio asks for and the store's changes fed to it.
@MainActor
final class BluetoothRadio {
    private let radio: ProximityRadio
    private let hardware: CoreBluetoothHardware
    private var tasks: [Task<Void, Never>] = []

    /// A radio for `festival`; `onPower` hears Bluetooth switched on or off.
    init(node: MeadowNode, festival: String, onPower: @escaping @MainActor @Sendable (BluetoothPower) -> Void) {
        let hardware = CoreBluetoothHardware { power in
            Task { @MainActor in onPower(power) }
        }
        self.hardware = hardware
        radio = ProximityRadio(node: node, festival: festival, hardware: hardware)
        hardware.radio = radio
        let radio = self.radio
        let changes = node.changeStream(festival: festival)
        tasks.append(
            Task {
                for await change in changes
                where change.scopes.contains(.programme) || change.scopes.contains(.festival) {
                    radio.storeChanged()
                }
            })
    }

    /// Starts the scheduler, then wakes it when it asks.
    func start() {
        let radio = self.radio
        let hardware = self.hardware
        tasks.append(
            Task {
                do {
                    try await radio.start()
                } catch {
                    return
                }
                hardware.activate()
                while !Task.isCancelled {
                    let wait = min(max(radio.nextWake(), 50), 5_000)
                    try? await Task.sleep(nanoseconds: wait * 1_000_000)
                    radio.pump()
                }
            })
    }

    /// Stops scanning, advertising and every link.
    func stop() {
        tasks.forEach { $0.cancel() }
        tasks = []
        radio.stop()
        hardware.deactivate()
    }
}

/// `RadioHardware` over CoreBluetooth: a central that scans, connects, reads State, subscribes to
/// RX and writes TX; a peripheral that serves the Meadow service and notifies on RX. Everything
/// CoreBluetooth runs on one serial queue; what it hears goes to the radio's callbacks.
final class CoreBluetoothHardware: NSObject, RadioHardware, @unchecked Sendable {
    // Every field below is touched on `queue` only, except `radio`, set once before `activate`.
    weak var radio: ProximityRadio?

    private let queue = DispatchQueue(label: "meadow.bluetooth")
    private let onQueueKey = DispatchSpecificKey<Bool>()
    private let onPower: @Sendable (BluetoothPower) -> Void
    private let serviceUUID: CBUUID
    private let stateUUID: CBUUID
    private let txUUID: CBUUID
    private let rxUUID: CBUUID

    private var central: CBCentralManager?
    private var peripheralManager: CBPeripheralManager?
    private var service: CBMutableService?
    private var stateCharacteristic: CBMutableCharacteristic?
    private var rxCharacteristic: CBMutableCharacteristic?

    private var wantScan = false
    private var wantAdvertise = false
    private var peripherals: [UInt64: CBPeripheral] = [:]
    private var readFirst: [UInt64: Bool] = [:]
    private var centrals: [UInt64: CBCentral] = [:]
    private var incoming: Set<UInt64> = []

    init(onPower: @escaping @Sendable (BluetoothPower) -> Void) {
        self.onPower = onPower
        let uuids = proximityUuids()
        serviceUUID = CBUUID(string: uuids.service)
        stateUUID = CBUUID(string: uuids.state)
        txUUID = CBUUID(string: uuids.tx)
        rxUUID = CBUUID(string: uuids.rx)
        super.init()
        queue.setSpecific(key: onQueueKey, value: true)
    }

    /// Makes the managers (which asks for Bluetooth permission the first time), restoring what
    /// iOS kept for the app while it was not running.
    func activate() {
        queue.async {
            guard self.central == nil else { return }
            self.central = CBCentralManager(
                delegate: self, queue: self.queue,
                options: [CBCentralManagerOptionRestoreIdentifierKey: "meadow.central"])
            self.peripheralManager = CBPeripheralManager(
                delegate: self, queue: self.queue,
                options: [CBPeripheralManagerOptionRestoreIdentifierKey: "meadow.peripheral"])
        }
    }

    /// Drops every connection and lets the managers go.
    func deactivate() {
        queue.async {
            self.central?.stopScan()
            for p in self.peripherals.values { self.central?.cancelPeripheralConnection(p) }
            self.peripheralManager?.stopAdvertising()
            self.peripheralManager?.removeAllServices()
            self.peripherals = [:]
            self.centrals = [:]
            self.incoming = []
            self.central = nil
            self.peripheralManager = nil
            self.service = nil
        }
    }

    private func onQueue<T>(_ work: () -> T) -> T {
        DispatchQueue.getSpecific(key: onQueueKey) == true ? work() : queue.sync(execute: work)
    }

    /// A stable 64-bit id for a CoreBluetooth identifier.
    static func peerId(_ uuid: UUID) -> UInt64 {
        let b = uuid.uuid
        let bytes = [b.0, b.1, b.2, b.3, b.4, b.5, b.6, b.7, b.8, b.9, b.10, b.11, b.12, b.13, b.14, b.15]
        var id: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { id = (id ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return id
    }

    // MARK: RadioHardware

    func startScan() {
        queue.async {
            self.wantScan = true
            self.scanIfReady()
        }
    }

    func stopScan() {
        queue.async {
            self.wantScan = false
            if self.central?.state == .poweredOn { self.central?.stopScan() }
        }
    }

    func advertise(serviceData: Data) {
        // iOS cannot advertise service data: peers read the same bytes from State.
        queue.async {
            self.wantAdvertise = true
            self.advertiseIfReady()
        }
    }

    func stopAdvertising() {
        queue.async {
            self.wantAdvertise = false
            self.peripheralManager?.stopAdvertising()
        }
    }

    func connect(peer: UInt64, readState: Bool) {
        queue.async {
            guard let p = self.peripherals[peer], let central = self.central, central.state == .poweredOn else {
                self.radio?.disconnected(peer: peer)
                return
            }
            self.readFirst[peer] = readState
            if p.state == .connected {
                self.discover(p)
            } else {
                central.connect(p)
            }
        }
    }

    func subscribe(peer: UInt64) {
        queue.async {
            guard let p = self.peripherals[peer], let rx = self.characteristic(self.rxUUID, of: p) else {
                self.radio?.disconnected(peer: peer)
                return
            }
            self.readFirst[peer] = false
            p.setNotifyValue(true, for: rx)
        }
    }

    func send(peer: UInt64, packet: Data, asCentral: Bool) -> Bool {
        onQueue {
            if asCentral {
                guard let p = peripherals[peer], let tx = characteristic(txUUID, of: p) else { return false }
                guard p.canSendWriteWithoutResponse else { return false }
                p.writeValue(packet, for: tx, type: .withoutResponse)
                return true
            }
            guard let c = centrals[peer], let rx = rxCharacteristic, let manager = peripheralManager else {
                return false
            }
            return manager.updateValue(packet, for: rx, onSubscribedCentrals: [c])
        }
    }

    func disconnect(peer: UInt64) {
        queue.async {
            if let p = self.peripherals[peer], p.state != .disconnected {
                self.central?.cancelPeripheralConnection(p)
            } else if self.centrals.removeValue(forKey: peer) != nil || self.incoming.contains(peer) {
                // A peripheral cannot drop a central on iOS: it forgets it, and says so.
                self.incoming.remove(peer)
                self.radio?.disconnected(peer: peer)
            }
        }
    }

    // MARK: Helpers (on the queue)

    private func scanIfReady() {
        guard wantScan, let central, central.state == .poweredOn, !central.isScanning else { return }
        central.scanForPeripherals(
            withServices: [serviceUUID], options: [CBCentralManagerScanOptionAllowDuplicatesKey: false])
    }

    private func advertiseIfReady() {
        guard wantAdvertise, service != nil, let manager = peripheralManager, manager.state == .poweredOn,
            !manager.isAdvertising
        else { return }
        manager.startAdvertising([CBAdvertisementDataServiceUUIDsKey: [serviceUUID]])
    }

    private func addServiceIfNeeded() {
        guard service == nil, let manager = peripheralManager else { return }
        let state = CBMutableCharacteristic(type: stateUUID, properties: [.read], value: nil, permissions: [.readable])
        let tx = CBMutableCharacteristic(
            type: txUUID, properties: [.writeWithoutResponse], value: nil, permissions: [.writeable])
        let rx = CBMutableCharacteristic(type: rxUUID, properties: [.notify], value: nil, permissions: [.readable])
        let s = CBMutableService(type: serviceUUID, primary: true)
        s.characteristics = [state, tx, rx]
        service = s
        stateCharacteristic = state
        rxCharacteristic = rx
        manager.add(s)
    }

    private func characteristic(_ uuid: CBUUID, of p: CBPeripheral) -> CBCharacteristic? {
        p.services?.first { $0.uuid == serviceUUID }?.characteristics?.first { $0.uuid == uuid }
    }

    private func discover(_ p: CBPeripheral) {
        p.delegate = self
        if p.services?.contains(where: { $0.uuid == serviceUUID }) == true {
            peripheral(p, didDiscoverServices: nil)
        } else {
            p.discoverServices([serviceUUID])
        }
    }

    private func power(_ state: CBManagerState) -> BluetoothPower {
        switch state {
        case .poweredOn: return .on
        case .poweredOff, .resetting: return .off
        case .unauthorized: return .unauthorized
        case .unsupported: return .unsupported
        default: return .unknown
        }
    }

    private func mtu(_ p: CBPeripheral) -> UInt32 { UInt32(p.maximumWriteValueLength(for: .withoutResponse) + 3) }

    private func meet(_ c: CBCentral) -> UInt64 {
        let peer = Self.peerId(c.identifier)
        centrals[peer] = c
        if incoming.insert(peer).inserted { radio?.incoming(peer: peer) }
        radio?.mtuChanged(peer: peer, mtu: UInt32(c.maximumUpdateValueLength + 3))
        return peer
    }
}

extension CoreBluetoothHardware: CBCentralManagerDelegate, CBPeripheralDelegate {
    func centralManagerDidUpdateState(_ central: CBCentralManager) {
        onPower(power(central.state))
        if central.state == .poweredOn {
            scanIfReady()
        } else {
            for peer in peripherals.keys { radio?.disconnected(peer: peer) }
            peripherals = [:]
        }
    }

    func centralManager(_ central: CBCentralManager, willRestoreState dict: [String: Any]) {
        // Connections iOS kept belong to no link now: the scheduler will ask again.
        let restored = dict[CBCentralManagerRestoredStatePeripheralsKey] as? [CBPeripheral] ?? []
        for p in restored { central.cancelPeripheralConnection(p) }
        wantScan = (dict[CBCentralManagerRestoredStateScanServicesKey] as? [CBUUID])?.isEmpty == false
    }

    func centralManager(
        _ central: CBCentralManager, didDiscover peripheral: CBPeripheral, advertisementData: [String: Any],
        rssi: NSNumber
    ) {
        let peer = Self.peerId(peripheral.identifier)
        peripherals[peer] = peripheral
        // Android peers put the core's payload in the service data; iOS peers list the UUID only.
        let data = (advertisementData[CBAdvertisementDataServiceDataKey] as? [CBUUID: Data])?[serviceUUID]
        radio?.discovered(peer: peer, serviceData: data)
    }

    func centralManager(_ central: CBCentralManager, didConnect peripheral: CBPeripheral) {
        discover(peripheral)
    }

    func centralManager(_ central: CBCentralManager, didFailToConnect peripheral: CBPeripheral, error: Error?) {
        radio?.disconnected(peer: Self.peerId(peripheral.identifier))
    }

    func centralManager(
        _ central: CBCentralManager, didDisconnectPeripheral peripheral: CBPeripheral, error: Error?
    ) {
        radio?.disconnected(peer: Self.peerId(peripheral.identifier))
    }

    func peripheral(_ peripheral: CBPeripheral, didDiscoverServices error: Error?) {
        guard error == nil, let s = peripheral.services?.first(where: { $0.uuid == serviceUUID }) else {
            central?.cancelPeripheralConnection(peripheral)
            return
        }
        if s.characteristics?.isEmpty == false {
            self.peripheral(peripheral, didDiscoverCharacteristicsFor: s, error: nil)
        } else {
            peripheral.discoverCharacteristics([stateUUID, txUUID, rxUUID], for: s)
        }
    }

    func peripheral(_ peripheral: CBPeripheral, didDiscoverCharacteristicsFor service: CBService, error: Error?) {
        let peer = Self.peerId(peripheral.identifier)
        if readFirst[peer] == true, let state = characteristic(stateUUID, of: peripheral) {
            peripheral.readValue(for: state)
        } else if let rx = characteristic(rxUUID, of: peripheral), characteristic(txUUID, of: peripheral) != nil {
            peripheral.setNotifyValue(true, for: rx)
        } else {
            central?.cancelPeripheralConnection(peripheral)
        }
    }

    func peripheral(_ peripheral: CBPeripheral, didUpdateValueFor characteristic: CBCharacteristic, error: Error?) {
        let peer = Self.peerId(peripheral.identifier)
        if characteristic.uuid == stateUUID {
            readFirst[peer] = false
            radio?.stateRead(peer: peer, value: error == nil ? characteristic.value : nil)
        } else if characteristic.uuid == rxUUID, error == nil, let bytes = characteristic.value {
            radio?.received(peer: peer, bytes: bytes)
        }
    }

    func peripheral(
        _ peripheral: CBPeripheral, didUpdateNotificationStateFor characteristic: CBCharacteristic, error: Error?
    ) {
        guard characteristic.uuid == rxUUID else { return }
        if error == nil, characteristic.isNotifying {
            radio?.centralReady(peer: Self.peerId(peripheral.identifier), mtu: mtu(peripheral))
        } else {
            central?.cancelPeripheralConnection(peripheral)
        }
    }

    func peripheralIsReady(toSendWriteWithoutResponse peripheral: CBPeripheral) {
        radio?.sendReady(peer: Self.peerId(peripheral.identifier))
    }
}

extension CoreBluetoothHardware: CBPeripheralManagerDelegate {
    func peripheralManagerDidUpdateState(_ peripheral: CBPeripheralManager) {
        if peripheral.state == .poweredOn {
            addServiceIfNeeded()
            advertiseIfReady()
        } else {
            for peer in incoming { radio?.disconnected(peer: peer) }
            incoming = []
            centrals = [:]
        }
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, willRestoreState dict: [String: Any]) {
        let services = dict[CBPeripheralManagerRestoredStateServicesKey] as? [CBMutableService] ?? []
        guard let ours = services.first(where: { $0.uuid == serviceUUID }) else { return }
        service = ours
        let characteristics = ours.characteristics?.compactMap { $0 as? CBMutableCharacteristic } ?? []
        stateCharacteristic = characteristics.first { $0.uuid == stateUUID }
        rxCharacteristic = characteristics.first { $0.uuid == rxUUID }
        wantAdvertise = dict[CBPeripheralManagerRestoredStateAdvertisementDataKey] != nil
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didAdd service: CBService, error: Error?) {
        if error != nil { self.service = nil }
        advertiseIfReady()
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveRead request: CBATTRequest) {
        guard request.characteristic.uuid == stateUUID, let value = radio?.stateValue() else {
            peripheral.respond(to: request, withResult: .requestNotSupported)
            return
        }
        guard request.offset <= value.count else {
            peripheral.respond(to: request, withResult: .invalidOffset)
            return
        }
        request.value = value.subdata(in: request.offset..<value.count)
        peripheral.respond(to: request, withResult: .success)
    }

    func peripheralManager(_ peripheral: CBPeripheralManager, didReceiveWrite requests: [CBATTRequest]) {
        for request in requests where request.characteristic.uuid == txUUID {
            let peer = meet(request.central)
            if let bytes = request.value { radio?.received(peer: peer, bytes: bytes) }
        }
    }

    func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral, didSubscribeTo characteristic: CBCharacteristic
    ) {
        guard characteristic.uuid == rxUUID else { return }
        _ = meet(central)
    }

    func peripheralManager(
        _ peripheral: CBPeripheralManager, central: CBCentral, didUnsubscribeFrom characteristic: CBCharacteristic
    ) {
        let peer = Self.peerId(central.identifier)
        centrals[peer] = nil
        if incoming.remove(peer) != nil { radio?.disconnected(peer: peer) }
    }

    func peripheralManagerIsReady(toUpdateSubscribers peripheral: CBPeripheralManager) {
        for peer in centrals.keys { radio?.sendReady(peer: peer) }
    }
}
