import RDCompute

extension KernelFamily {
    static let gemm = KernelFamily(name: "gemm", kernels: ["gemm"])
}

/// Tile of `Kernels/gemm.cl`: TS×TS outputs per work-group of TS×(TS/WPT) items.
struct GemmTile: Equatable {
    let tileSize: Int
    let workPerThread: Int

    var localSize: [Int] { [tileSize, tileSize / workPerThread] }

    /// The largest tile of the table that fits the device's work-group and local-memory
    /// limits (CLBlast-style defaults; 32×32 with 8 results per item fits every current GPU).
    static func choose(for device: OpenCLDevice) -> GemmTile {
        let table = [GemmTile(tileSize: 32, workPerThread: 8), GemmTile(tileSize: 16, workPerThread: 4),
            GemmTile(tileSize: 8, workPerThread: 2), GemmTile(tileSize: 4, workPerThread: 1)]
        let sizes = device.maxWorkItemSizes + [1, 1]
        return table.first { tile in
            let items = tile.tileSize * tile.tileSize / tile.workPerThread
            let local = UInt64(2 * tile.tileSize * (tile.tileSize + 1) * 4)
            return items <= device.maxWorkGroupSize && tile.tileSize <= sizes[0]
                && tile.tileSize / tile.workPerThread <= sizes[1] && local <= device.localMemoryBytes
        } ?? table[table.count - 1]
    }
}

extension OpenCLBackend {
    public func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(d, a: a, b: b, c: c)
        guard d.m > 0, d.n > 0 else { return }
        let ts = gemmTile.tileSize
        let global = [(d.n + ts - 1) / ts * ts, (d.m + ts - 1) / ts * gemmTile.localSize[1]]
        try launch("gemm", global: global, local: gemmTile.localSize, [
            .int(d.m), .int(d.n), .int(d.k), .int(d.transposeA ? 1 : 0), .int(d.transposeB ? 1 : 0),
            .float(d.alpha), .float(d.beta), .buffer(a), .buffer(b), .buffer(c),
        ])
    }
}
