import RDBackendCPU
import RDCompute

/// A partial backend for tests: GEMM and the buffer methods, on a private ``CPUBackend``;
/// every other op is the protocol's default, which throws
/// ``ComputeError/unsupported(op:backend:reason:)``. That it compiles with only these
/// members is what a partial backend needs to implement.
///
/// Its buffers carry its own identity (their storage is the private CPU backend's buffer),
/// so passing one to another backend is caught as for any device.
public final class GEMMOnlyBackend: Backend, @unchecked Sendable {
    public let instanceID = BackendInstanceID.next()
    public let device: DeviceDescription
    public let supportedOps: Set<Op> = [.gemm]
    private let host = CPUBackend()

    public init() {
        let hostDevice = CPUBackendFactory.hostDevice
        device = DeviceDescription(backend: "gemm-only", index: 0, name: "GEMM on \(hostDevice.name)",
            vendor: "rdlab tests", kind: .cpu, globalMemoryBytes: hostDevice.globalMemoryBytes,
            computeUnits: hostDevice.computeUnits, driverVersion: "test double")
    }

    /// The private CPU backend's buffer behind one of this backend's buffers.
    private func hosted(_ buffer: DeviceBuffer) throws -> DeviceBuffer {
        try checkOwnership(buffer)
        guard let inner = buffer.storage as? DeviceBuffer else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return inner
    }

    // MARK: Buffers

    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: try host.makeBuffer(count: count))
    }

    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws { try host.upload(values, to: hosted(buffer)) }

    public func download(_ buffer: DeviceBuffer) throws -> [Float] { try host.download(hosted(buffer)) }

    public func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try host.copy(hosted(source), to: hosted(destination))
    }

    public func fill(_ buffer: DeviceBuffer, with value: Float) throws { try host.fill(hosted(buffer), with: value) }

    public func synchronize() throws { try host.synchronize() }

    // MARK: Ops

    public func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try host.gemm(descriptor, a: hosted(a), b: hosted(b), c: hosted(c))
    }
}
