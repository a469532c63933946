import RDCompute

extension KernelFamily {
    static let gemm = KernelFamily(name: "gemm", kernels: ["gemm"], options: \.defines)
}

/// Tile of `Kernels/gemm.cl` and of the conv GEMMs in `Kernels/conv.cl`: TS×TS outputs per
/// work-group of TS×(TS/WPT) items, each keeping WPT results in registers.
struct GemmTile: Equatable, CustomStringConvertible {
    let tileSize: Int
    let workPerThread: Int

    var localSize: [Int] { [tileSize, tileSize / workPerThread] }
    /// The kernels' compile-time tile: `-D TS=… -D WPT=…`.
    var defines: [String] { ["-D TS=\(tileSize)", "-D WPT=\(workPerThread)"] }
    var description: String { "\(tileSize)x\(workPerThread)" }

    /// `TSxWPT`, e.g. `32x8` (TS a multiple of WPT).
    init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] % parts[1] == 0 else { return nil }
        self.init(tileSize: parts[0], workPerThread: parts[1])
    }

    init(tileSize: Int, workPerThread: Int) {
        self.tileSize = tileSize
        self.workPerThread = workPerThread
    }

    /// Preferred tiles of a device class, best first (CLBlast-style defaults, not tuned on
    /// each card): NVIDIA GPUs take a 64×64 tile of 512 items (33 KiB of local memory),
    /// AMD GPUs 32×32 in 256 items (their usual work-group limit), Intel GPUs and unknown
    /// devices 32×32 in 128 items, CPU devices (PoCL) 64×64 in 256 items, the best of five
    /// tiles measured on PoCL (SGEMM 1024³ 407 ms against 533 ms for 32×8 and 1005 ms for
    /// 16×4); every list falls back to smaller tiles.
    static func preferences(for device: DeviceDescription) -> [GemmTile] {
        let vendor = "\(device.vendor) \(device.platformVendor) \(device.name)".lowercased()
        let fallback = [GemmTile(tileSize: 32, workPerThread: 8), GemmTile(tileSize: 16, workPerThread: 4),
            GemmTile(tileSize: 8, workPerThread: 2), GemmTile(tileSize: 4, workPerThread: 1)]
        switch device.kind {
        case .gpu where vendor.contains("nvidia"): return [GemmTile(tileSize: 64, workPerThread: 8)] + fallback
        case .gpu where vendor.contains("amd") || vendor.contains("advanced micro"):
            return [GemmTile(tileSize: 32, workPerThread: 4)] + fallback
        case .cpu: return [GemmTile(tileSize: 64, workPerThread: 16)] + fallback
        default: return fallback
        }
    }

    /// The override if it fits, else the first preference of the device's class that fits its
    /// work-group and local-memory limits.
    static func choose(for device: OpenCLDevice, override: String? = nil) -> GemmTile {
        let sizes = device.maxWorkItemSizes + [1, 1]
        func fits(_ tile: GemmTile) -> Bool {
            let items = tile.tileSize * tile.tileSize / tile.workPerThread
            let local = UInt64(2 * tile.tileSize * (tile.tileSize + 1) * 4)
            return items <= device.maxWorkGroupSize && tile.tileSize <= sizes[0]
                && tile.tileSize / tile.workPerThread <= sizes[1] && local <= device.localMemoryBytes
        }
        if let tile = override.flatMap(GemmTile.init), fits(tile) { return tile }
        let table = preferences(for: device.description)
        return table.first(where: fits) ?? table[table.count - 1]
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
