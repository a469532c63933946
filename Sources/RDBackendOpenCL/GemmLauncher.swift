import COpenCL
import RDCompute

extension KernelFamily {
    static let gemm = KernelFamily(name: "gemm", kernels: ["gemm"], options: \.defines)
}

extension OpenCLBackend {
    public func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(d, a: a, b: b, c: c)
        try launchGemm(d, a: a, b: b, c: c, kernel: try kernel(named: "gemm"), tile: gemmTile)
    }

    /// Enqueues `gemm` compiled for `tile` (the backend's own, or a tuner's candidate): one
    /// work-group of `tile.localSize` per TS×TS block of C.
    func launchGemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer, kernel: cl_kernel,
        tile: GemmTile) throws {
        guard d.m > 0, d.n > 0 else { return }
        let ts = tile.tileSize
        let global = [(d.n + ts - 1) / ts * ts, (d.m + ts - 1) / ts * tile.localSize[1]]
        try launch(kernel, name: "gemm", global: global, local: tile.localSize, [
            .int(d.m), .int(d.n), .int(d.k), .int(d.transposeA ? 1 : 0), .int(d.transposeB ? 1 : 0),
            .float(d.alpha), .float(d.beta), .buffer(a), .buffer(b), .buffer(c),
        ])
    }
}
