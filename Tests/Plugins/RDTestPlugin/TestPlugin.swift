import RDCompute

/// The plugin entry: rdlab `dlopen`s `libRDTestPlugin.so` and calls this symbol
/// (``BackendPlugin/entrySymbol``); nothing links this library. It links `libRDCompute.so`, the
/// one rdlab links, so its backend is rdlab's `any Backend` (`PluginIntegrationTests`).
@_cdecl("rdlab_backend_plugin")
public func rdlabBackendPlugin(_ factory: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    BackendPlugin.export(TestPluginFactory(), to: factory)
}

/// A backend family `testplugin` with one `accelerator` device (host memory beside the CPU backend), built as a shared library of its own
/// for the plugin tests. It depends on RDCompute only, as an out-of-tree plugin does.
struct TestPluginFactory: BackendFactory {
    var name: String { "testplugin" }

    static let device = DeviceDescription(backend: "testplugin", index: 0, name: "naive GEMM in a plugin",
        vendor: "rdlab tests", kind: .accelerator, globalMemoryBytes: 1 << 30, computeUnits: 1, driverVersion: "plugin API \(BackendPlugin.apiVersion)")

    func devices() throws -> [DeviceDescription] { [Self.device] }

    func makeBackend(on device: DeviceDescription) throws -> any Backend {
        guard device == Self.device else { throw ComputeError.noDevice(backend: name, reason: "no device \(device.selector)") }
        return TestPluginBackend(device: device)
    }
}

/// Host memory of one buffer.
final class HostStorage: @unchecked Sendable {
    var values: [Float]
    init(count: Int) { values = [Float](repeating: 0, count: count) }
}

/// Buffers in host memory and a naive GEMM; every other op is the protocol's default
/// (`unsupported`), which rdlab's selection runs on its CPU backend.
final class TestPluginBackend: Backend, @unchecked Sendable {
    let instanceID = BackendInstanceID.next()
    let device: DeviceDescription
    let supportedOps: Set<Op> = [.gemm]

    init(device: DeviceDescription) { self.device = device }

    private func host(_ buffer: DeviceBuffer) throws -> HostStorage {
        try checkOwnership(buffer)
        guard let storage = buffer.storage as? HostStorage else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return storage
    }

    func makeBuffer(count: Int) throws -> DeviceBuffer {
        DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: HostStorage(count: count))
    }

    func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        guard values.count == buffer.count else {
            throw ComputeError.invalidArgument(op: "upload", reason: "\(values.count) values for a buffer of \(buffer.count)")
        }
        try host(buffer).values = values
    }

    func download(_ buffer: DeviceBuffer) throws -> [Float] { try host(buffer).values }

    func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        guard source.count == destination.count else {
            throw ComputeError.invalidArgument(op: "copy", reason: "\(source.count) elements into \(destination.count)")
        }
        try host(destination).values = try host(source).values
    }

    func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        let storage = try host(buffer)
        storage.values = [Float](repeating: value, count: buffer.count)
    }

    func synchronize() throws {}

    func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(d, a: a, b: b, c: c)
        let av = try host(a).values, bv = try host(b).values, out = try host(c)
        var result = out.values
        for i in 0..<d.m {
            for j in 0..<d.n {
                var sum: Float = 0
                for p in 0..<d.k {
                    sum += (d.transposeA ? av[p * d.m + i] : av[i * d.k + p]) * (d.transposeB ? bv[j * d.k + p] : bv[p * d.n + j])
                }
                result[i * d.n + j] = d.alpha * sum + (d.beta == 0 ? 0 : d.beta * result[i * d.n + j])
            }
        }
        out.values = result
    }
}
