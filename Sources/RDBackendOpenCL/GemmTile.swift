import Foundation
import RDCompute

/// Tile of `Kernels/gemm.cl` and of the conv GEMMs in `Kernels/conv.cl`: TS×TS outputs per
/// work-group of TS×(TS/WPT) items, each keeping WPT results in registers.
struct GemmTile: Equatable, Hashable, Sendable, CustomStringConvertible {
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
    /// 16×4); every list falls back to smaller tiles. `rdlab tune` measures a device's own best
    /// (``TunedGemmTile``), which then takes precedence over this table.
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

    /// Whether the device runs this tile: TS×(TS/WPT) items within its work-group and
    /// per-dimension limits, and the two (TS × (TS+1)) float tiles within its local memory.
    func fits(_ device: OpenCLDevice) -> Bool {
        let sizes = device.maxWorkItemSizes + [1, 1]
        let items = tileSize * tileSize / workPerThread
        let local = UInt64(2 * tileSize * (tileSize + 1) * MemoryLayout<Float>.size)
        return items <= device.maxWorkGroupSize && tileSize <= sizes[0] && tileSize / workPerThread <= sizes[1]
            && local <= device.localMemoryBytes
    }

    /// The table's tile for the device: its class's first preference that fits.
    static func tableDefault(for device: OpenCLDevice) -> GemmTile {
        let table = preferences(for: device.description)
        return table.first { $0.fits(device) } ?? table[table.count - 1]
    }

    /// The override (`RDLAB_GEMM_TILE`) if it parses and fits, else the tuned tile if it fits,
    /// else the table's default; with where it came from.
    static func choose(for device: OpenCLDevice, override: String?, tuned: TunedGemmTile?)
        -> (tile: GemmTile, origin: GemmTileChoice.Origin) {
        if let tile = override.flatMap(GemmTile.init), tile.fits(device) { return (tile, .environment) }
        if let tuned, let tile = GemmTile(tuned.tile), tile.fits(device) {
            return (tile, .tuned(date: tuned.tunedAt, speedup: tuned.speedup))
        }
        return (tableDefault(for: device), .table)
    }

    /// The tuner's search space: the table's default first (so the result is never slower than
    /// it), then every TS of 128, 64, 32, 16, 8 with every WPT of 32, 16, …, 1 up to TS that
    /// fits the device, largest tiles and most work per item first (where the table's best
    /// tiles lie, so a short budget reaches them before the small ones).
    static func candidates(for device: OpenCLDevice) -> [GemmTile] {
        let first = tableDefault(for: device)
        var space = [first]
        for ts in [128, 64, 32, 16, 8] {
            for wpt in [32, 16, 8, 4, 2, 1] where wpt <= ts {
                let tile = GemmTile(tileSize: ts, workPerThread: wpt)
                if tile != first && tile.fits(device) { space.append(tile) }
            }
        }
        return space
    }
}

/// The GEMM/conv tile a backend uses and why, for `rdlab devices`.
public struct GemmTileChoice: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// The per-vendor table (``GemmTile/preferences(for:)``): never tuned on this device and driver.
        case table
        /// `RDLAB_GEMM_TILE`.
        case environment
        /// `rdlab tune`'s result for this device and driver, measured `speedup` times faster than the table's tile.
        case tuned(date: Date, speedup: Double)
    }

    /// `TSxWPT`.
    public let tile: String
    public let origin: Origin
}
