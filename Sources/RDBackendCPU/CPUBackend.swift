import Foundation
import RDCompute
import Synchronization

/// The CPU backend: every op in Swift with `SIMD16<Float>` and static threading over all
/// cores. Always available; the fallback for every other backend. Ops run synchronously.
public final class CPUBackend: Backend, @unchecked Sendable {
    public let instanceID = BackendInstanceID.next()
    public let device: DeviceDescription
    /// Every op.
    public let supportedOps = Set(Op.allCases)
    private let made = Atomic<Int>(0)
    /// The buffers this instance has made (a replayed step plan makes none).
    public var buffersMade: Int { made.load(ordering: .relaxed) }

    public init(device: DeviceDescription = CPUBackendFactory.hostDevice) {
        self.device = device
    }

    /// The host pointer of a buffer this backend made.
    func pointer(_ buffer: DeviceBuffer) throws -> UnsafeMutablePointer<Float> {
        try checkOwnership(buffer)
        guard let storage = buffer.storage as? CPUStorage else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return storage.pointer
    }

    // MARK: Buffers

    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 0 else { throw ComputeError.invalidArgument(op: "makeBuffer", reason: "negative count \(count)") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, UInt64(bytes) <= device.globalMemoryBytes else {
            throw ComputeError.outOfDeviceMemory(device: displayName, requestedBytes: overflow ? Int.max : bytes)
        }
        made.add(1, ordering: .relaxed)
        return DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: CPUStorage(count: count))
    }

    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        let p = try pointer(buffer)
        guard values.count == buffer.count else {
            throw ComputeError.invalidArgument(op: "upload", reason: "\(values.count) values for a buffer of \(buffer.count)")
        }
        values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
    }

    public func download(_ buffer: DeviceBuffer) throws -> [Float] {
        let p = try pointer(buffer)
        return Array(UnsafeBufferPointer(start: p, count: buffer.count))
    }

    public func download(_ buffer: DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        let p = try pointer(buffer)
        try OpValidation.hostCount("download", buffer, values.count)
        guard let target = values.baseAddress else { return }
        target.update(from: p, count: buffer.count)
    }

    public func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try OpValidation.sameCount("copy", source, destination)
        try pointer(destination).update(from: pointer(source), count: source.count)
    }

    public func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        try pointer(buffer).update(repeating: value, count: buffer.count)
    }

    public func synchronize() throws {}
}
