import COpenCL
import Foundation
import Logging
import RDCompute
import Synchronization

/// A `cl_mem` owned by a ``DeviceBuffer``.
final class OpenCLStorage {
    let mem: cl_mem
    let api: OpenCLAPI

    init(mem: cl_mem, api: OpenCLAPI) {
        self.mem = mem
        self.api = api
    }

    deinit { _ = api.releaseMemObject(mem) }
}

/// One context per device, shared by every backend instance on it, so that compiled
/// programs are cached in memory per device.
final class OpenCLDeviceContext: @unchecked Sendable {
    let context: cl_context
    let programs: ProgramCache
    private let api: OpenCLAPI

    nonisolated(unsafe) private static var contexts: [String: OpenCLDeviceContext] = [:]
    private static let lock = NSLock()

    private init(api: OpenCLAPI, device: OpenCLDevice, cacheDirectory: URL?, logger: Logger) throws {
        var code: cl_int = 0
        var id: cl_device_id? = device.id
        guard let context = api.createContext(nil, 1, &id, nil, nil, &code), code == CL_SUCCESS else {
            throw ComputeError.driver(call: "clCreateContext", code: code, device: device.description.name)
        }
        self.api = api
        self.context = context
        programs = ProgramCache(api: api, device: device, context: context, directory: cacheDirectory, logger: logger)
    }

    deinit { _ = api.releaseContext(context) }

    static func shared(api: OpenCLAPI, device: OpenCLDevice, cacheDirectory: URL?, logger: Logger) throws -> OpenCLDeviceContext {
        let key = "\(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(device.id))))|\(cacheDirectory?.path ?? "off")"
        return try lock.withLock {
            if let existing = contexts[key] { return existing }
            let made = try OpenCLDeviceContext(api: api, device: device, cacheDirectory: cacheDirectory, logger: logger)
            contexts[key] = made
            return made
        }
    }
}

/// The OpenCL backend: hand-written OpenCL C 1.2 kernels (`Kernels/*.cl`) on one device, an
/// in-order queue, and launchers per kernel family (`*Launcher.swift`).
///
/// All kernels are built when the backend is made, so a broken driver or kernel surfaces at
/// selection time (and triggers the CPU fallback) rather than mid-run.
public final class OpenCLBackend: Backend, @unchecked Sendable {
    public let instanceID = BackendInstanceID.next()
    public let device: DeviceDescription
    /// Every op.
    public let supportedOps = Set(Op.allCases)
    private let made = Atomic<Int>(0)
    /// The `cl_mem` buffers this instance has made (a replayed step plan makes none).
    public var buffersMade: Int { made.load(ordering: .relaxed) }
    let api: OpenCLAPI
    let cl: OpenCLDevice
    let shared: OpenCLDeviceContext
    let queue: cl_command_queue
    let configuration: OpenCLConfiguration
    let logger: Logger
    /// GEMM tile (TS, WPT): `RDLAB_GEMM_TILE`, else this device and driver's `rdlab tune`
    /// result, else the vendor table; always within the device's limits.
    let gemmTile: GemmTile
    /// The tile and where it came from, for `rdlab devices`.
    public let gemmTileChoice: GemmTileChoice
    private var kernels: [String: cl_kernel] = [:]
    /// Events of the kernels enqueued since ``startDeviceTimer()``; nil when not timing.
    private var timedEvents: [cl_event]?
    private var pendingUploads: [(event: cl_event, memory: UnsafeMutableRawPointer)] = []
    private let lock = NSLock()

    init(api: OpenCLAPI, device: OpenCLDevice, configuration: OpenCLConfiguration, logger: Logger) throws {
        self.api = api
        self.cl = device
        self.device = device.description
        self.configuration = configuration
        self.logger = logger
        shared = try OpenCLDeviceContext.shared(api: api, device: device, cacheDirectory: configuration.cacheDirectory,
            logger: logger)
        var code: cl_int = 0
        guard let queue = api.createCommandQueue(shared.context, device.id,
            cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &code), code == CL_SUCCESS
        else { throw ComputeError.driver(call: "clCreateCommandQueue", code: code, device: device.description.name) }
        self.queue = queue
        let sources = try TuningSources(directory: configuration.kernelDirectory).digest
        let chosen = GemmTile.choose(for: device, override: configuration.gemmTile) {
            TunedGemmTile.tuned(for: device.description, in: configuration.cacheDirectory, sources: sources, logger: logger)
        }
        gemmTile = chosen.tile
        gemmTileChoice = GemmTileChoice(tile: chosen.tile, origin: chosen.origin)
        for family in KernelFamily.all {
            let source = try KernelSource.text(of: family, directory: configuration.kernelDirectory)
            let program = try shared.programs.program(family: family.name, source: source, options: options(for: family))
            for name in family.kernels {
                guard let kernel = api.createKernel(program, name, &code), code == CL_SUCCESS else {
                    throw ComputeError.kernelBuild(kernel: "\(family.name).cl:\(name)", options: options(for: family),
                        device: displayName, log: "clCreateKernel failed with \(code): the kernel is missing from the source")
                }
                kernels[name] = kernel
            }
        }
    }

    deinit {
        _ = api.finish(queue)
        releaseCompletedUploads(all: true)
        for kernel in kernels.values { _ = api.releaseKernel(kernel) }
        _ = api.releaseCommandQueue(queue)
    }

    /// Build options of a family on this device: OpenCL C 1.2, plus the family's own.
    func options(for family: KernelFamily) -> String { family.buildOptions(tile: gemmTile) }

    func mem(_ buffer: DeviceBuffer) throws -> cl_mem {
        try checkOwnership(buffer)
        guard let storage = buffer.storage as? OpenCLStorage else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return storage.mem
    }

    // MARK: Buffers

    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 0 else { throw ComputeError.invalidArgument(op: "makeBuffer", reason: "negative count \(count)") }
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, UInt64(bytes) <= cl.maxAllocationBytes else {
            throw ComputeError.outOfDeviceMemory(device: displayName, requestedBytes: overflow ? Int.max : bytes)
        }
        var code: cl_int = 0
        guard let mem = api.createBuffer(shared.context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &code),
            code == CL_SUCCESS
        else {
            if code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES || code == CL_INVALID_BUFFER_SIZE
                || code == CL_OUT_OF_HOST_MEMORY {
                throw ComputeError.outOfDeviceMemory(device: displayName, requestedBytes: bytes)
            }
            throw ComputeError.driver(call: "clCreateBuffer", code: code, device: displayName)
        }
        made.add(1, ordering: .relaxed)
        return DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: OpenCLStorage(mem: mem, api: api))
    }

    /// Non-blocking write from a private host copy, kept alive until its event completes.
    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        guard values.count == buffer.count else {
            throw ComputeError.invalidArgument(op: "upload", reason: "\(values.count) values for a buffer of \(buffer.count)")
        }
        try values.withUnsafeBytes { try uploadBytes($0, to: buffer) }
    }

    /// Writes `bytes` (4 per element of `buffer`) from a private copy, without blocking.
    func uploadBytes(_ source: UnsafeRawBufferPointer, to buffer: DeviceBuffer) throws {
        let target = try mem(buffer)
        guard source.count > 0 else { return }
        let bytes = source.count
        let host = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        host.copyMemory(from: source.baseAddress!, byteCount: bytes)
        try lock.withLock {
            releaseCompletedUploads(all: false)
            var event: cl_event?
            let code = api.enqueueWriteBuffer(queue, target, cl_bool(CL_FALSE), 0, bytes, host, 0, nil, &event)
            guard code == CL_SUCCESS, let event else {
                host.deallocate()
                try OpenCLAPI.check(code, "clEnqueueWriteBuffer", device: displayName)
                return
            }
            pendingUploads.append((event, host))
        }
        try afterEnqueue()
    }

    /// Frees host copies whose writes have completed (all of them after a finish).
    private func releaseCompletedUploads(all: Bool) {
        pendingUploads.removeAll { upload in
            var status: cl_int = 0
            let done = all
                || (api.getEventInfo(upload.event, cl_uint(CL_EVENT_COMMAND_EXECUTION_STATUS), MemoryLayout<cl_int>.size,
                    &status, nil) == CL_SUCCESS && status <= CL_COMPLETE)
            if done {
                _ = api.releaseEvent(upload.event)
                upload.memory.deallocate()
            }
            return done
        }
    }

    public func download(_ buffer: DeviceBuffer) throws -> [Float] {
        let source = try mem(buffer)
        guard buffer.count > 0 else { return [] }
        var values = [Float](repeating: 0, count: buffer.count)
        let code = values.withUnsafeMutableBytes {
            api.enqueueReadBuffer(queue, source, cl_bool(CL_TRUE), 0, $0.count, $0.baseAddress, 0, nil, nil)
        }
        try OpenCLAPI.check(code, "clEnqueueReadBuffer", device: displayName)
        return values
    }

    public func download(_ buffer: DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        let source = try mem(buffer)
        try OpValidation.hostCount("download", buffer, values.count)
        guard let target = values.baseAddress, buffer.count > 0 else { return }
        let code = api.enqueueReadBuffer(queue, source, cl_bool(CL_TRUE), 0, buffer.byteCount, target, 0, nil, nil)
        try OpenCLAPI.check(code, "clEnqueueReadBuffer", device: displayName)
    }

    public func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        let bytes = try OpValidation.sameCountBytes("copy", source, destination)
        let (from, to) = (try mem(source), try mem(destination))
        try lock.withLock {
            var event: cl_event?
            let code = timedEvents == nil
                ? api.enqueueCopyBuffer(queue, from, to, 0, 0, bytes, 0, nil, nil)
                : api.enqueueCopyBuffer(queue, from, to, 0, 0, bytes, 0, nil, &event)
            try OpenCLAPI.check(code, "clEnqueueCopyBuffer", device: displayName)
            if let event { timedEvents?.append(event) }
        }
        try afterEnqueue()
    }

    public func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        let target = try mem(buffer)
        guard buffer.count > 0 else { return }
        var pattern = value
        try OpenCLAPI.check(api.enqueueFillBuffer(queue, target, &pattern, MemoryLayout<Float>.size, 0, buffer.byteCount,
            0, nil, nil), "clEnqueueFillBuffer", device: displayName)
        try afterEnqueue()
    }

    public func synchronize() throws {
        try OpenCLAPI.check(api.finish(queue), "clFinish", device: displayName)
        lock.withLock { releaseCompletedUploads(all: true) }
    }

    private func afterEnqueue() throws {
        if configuration.synchronous { try synchronize() }
    }

    // MARK: Kernel launch

    /// A kernel argument.
    enum Argument {
        case buffer(DeviceBuffer)
        case int(Int)
        case float(Float)
        case uint2(UInt32, UInt32)
        case ulong(UInt64)
        /// An `int8` or `int16` vector; the values are zero-padded to the given width.
        case ints([Int], width: Int)
        /// `bytes` of `__local` memory.
        case local(Int)
    }

    /// Runs `body` on the timed-event list under the backend's lock.
    func withTimedEvents(_ body: (inout [cl_event]?) -> Void) {
        lock.withLock { body(&timedEvents) }
    }

    /// The loaded kernel `name`.
    func kernel(named name: String) throws -> cl_kernel {
        guard let kernel = kernels[name] else {
            throw ComputeError.unsupported(op: name, backend: displayName, reason: "kernel not loaded")
        }
        return kernel
    }

    /// Sets the arguments and enqueues `name` over `global` items in groups of `local`.
    func launch(_ name: String, global: [Int], local: [Int]? = nil, _ arguments: [Argument]) throws {
        try launch(try kernel(named: name), name: name, global: global, local: local, arguments)
    }

    /// Sets the arguments and enqueues `kernel` (called `name` in errors) over `global` items in
    /// groups of `local`; timed when the device timer runs.
    func launch(_ kernel: cl_kernel, name: String, global: [Int], local: [Int]?, _ arguments: [Argument]) throws {
        guard global.allSatisfy({ $0 > 0 }) else { return }
        try lock.withLock {
            for (index, argument) in arguments.enumerated() {
                let i = cl_uint(index)
                let code: cl_int
                switch argument {
                case .buffer(let buffer):
                    var m: cl_mem? = try mem(buffer)
                    code = api.setKernelArg(kernel, i, MemoryLayout<cl_mem>.size, &m)
                case .int(let v):
                    guard let narrow = Int32(exactly: v) else {
                        throw ComputeError.invalidArgument(op: name, reason: "size \(v) exceeds the 32-bit index range of the kernels")
                    }
                    var value = narrow
                    code = api.setKernelArg(kernel, i, 4, &value)
                case .float(var v):
                    code = api.setKernelArg(kernel, i, 4, &v)
                case .uint2(let a, let b):
                    var v = SIMD2<UInt32>(a, b)
                    code = api.setKernelArg(kernel, i, 8, &v)
                case .ulong(var v):
                    code = api.setKernelArg(kernel, i, 8, &v)
                case .ints(let values, let width):
                    var padded = values.map { Int32(truncatingIfNeeded: $0) } + [Int32](repeating: 0, count: width - values.count)
                    code = api.setKernelArg(kernel, i, 4 * width, &padded)
                case .local(let bytes):
                    code = api.setKernelArg(kernel, i, bytes, nil)
                }
                try OpenCLAPI.check(code, "clSetKernelArg(\(name), \(index))", device: displayName)
            }
            var event: cl_event?
            let code = timedEvents == nil
                ? api.enqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, global, local, 0, nil, nil)
                : api.enqueueNDRangeKernel(queue, kernel, cl_uint(global.count), nil, global, local, 0, nil, &event)
            try OpenCLAPI.check(code, "clEnqueueNDRangeKernel(\(name))", device: displayName)
            if let event { timedEvents?.append(event) }
        }
        try afterEnqueue()
    }

    /// The largest power-of-two group size, at most `cap`, that the device and kernel allow.
    func groupSize(_ name: String, cap: Int = 256) -> Int {
        var limit = min(cap, cl.maxWorkGroupSize, cl.maxWorkItemSizes.first ?? 1)
        if let kernel = kernels[name] {
            var kernelLimit = 0
            if api.getKernelWorkGroupInfo(kernel, cl.id, cl_uint(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size,
                &kernelLimit, nil) == CL_SUCCESS, kernelLimit > 0 {
                limit = min(limit, kernelLimit)
            }
        }
        var size = 1
        while size * 2 <= limit { size *= 2 }
        return size
    }

    /// A 1-D launch of one item per element: group size from the device, global rounded up.
    func launchElementwise(_ name: String, count: Int, _ arguments: [Argument]) throws {
        guard count > 0 else { return }
        let local = groupSize(name)
        try launch(name, global: [(count + local - 1) / local * local], local: [local], arguments)
    }
}

extension OpValidation {
    /// Checks equal element counts and returns the byte count.
    static func sameCountBytes(_ op: String, _ a: DeviceBuffer, _ b: DeviceBuffer) throws -> Int {
        try sameCount(op, a, b)
        return a.byteCount
    }
}
