import RDCompute

/// Buffers in host memory; GEMM and the three convolution passes on OpenBLAS
/// (`OpenBLASBackend+Gemm.swift`, `OpenBLASBackend+Conv.swift`). Every other op is the
/// protocol's default (`unsupported`), which rdlab's selection runs on its CPU backend (op
/// fallback), staging buffers between the two. Ops run synchronously on the calling thread
/// (OpenBLAS spreads one `sgemm` over its own thread pool).
final class OpenBLASBackend: Backend, @unchecked Sendable {
    let instanceID = BackendInstanceID.next()
    let device: DeviceDescription
    let supportedOps: Set<Op> = [.gemm, .conv2dForward, .conv2dBackwardData, .conv2dBackwardFilter]
    /// Floats of im2col scratch per chunk (``ConvChunks/budget``; the tests shrink it to force many chunks).
    let columnBudget: Int

    init(device: DeviceDescription, columnBudget: Int = ConvChunks.budget) {
        self.device = device
        self.columnBudget = max(1, columnBudget)
    }

    /// The host pointer of a buffer this instance made.
    func pointer(_ buffer: DeviceBuffer) throws -> UnsafeMutablePointer<Float> {
        try checkOwnership(buffer)
        guard let storage = buffer.storage as? HostStorage else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return storage.pointer
    }

    // MARK: Buffers

    func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 0 else { throw ComputeError.invalidArgument(op: "makeBuffer", reason: "negative count \(count)") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, UInt64(bytes) <= device.globalMemoryBytes else {
            throw ComputeError.outOfDeviceMemory(device: displayName, requestedBytes: overflow ? Int.max : bytes)
        }
        return DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: HostStorage(count: count))
    }

    func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        let p = try pointer(buffer)
        guard values.count == buffer.count else {
            throw ComputeError.invalidArgument(op: "upload", reason: "\(values.count) values for a buffer of \(buffer.count)")
        }
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { p.update(from: base, count: values.count) }
        }
    }

    func download(_ buffer: DeviceBuffer) throws -> [Float] {
        Array(UnsafeBufferPointer(start: try pointer(buffer), count: buffer.count))
    }

    func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try OpValidation.sameCount("copy", source, destination)
        guard source !== destination else { _ = try pointer(source); return }
        try pointer(destination).update(from: pointer(source), count: source.count)
    }

    func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        try pointer(buffer).update(repeating: value, count: buffer.count)
    }

    func synchronize() throws {}
}
