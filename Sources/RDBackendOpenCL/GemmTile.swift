import Foundation
import RDCompute

/// Tile of `Kernels/gemm.cl` and of the conv GEMMs in `Kernels/conv.cl`: TS×TS outputs per
/// work-group of TS×(TS/WPT) items, each keeping WPT results in registers. Stored in tuning
/// files as its text, `TSxWPT`; a tile read from a file or the environment is bounded
/// (``init(_:)``), so nothing computed from it can overflow.
public struct GemmTile: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The largest TS accepted: far above any device's work-group limit (a TS×1 group of 1024
    /// items needs TS ≤ 1024 on every device), small enough that TS² and the local-memory
    /// size 2·TS·(TS+1)·4 bytes cannot overflow.
    static let maxTileSize = 1024

    public let tileSize: Int
    public let workPerThread: Int

    var localSize: [Int] { [tileSize, tileSize / workPerThread] }
    /// The kernels' compile-time tile: `-D TS=… -D WPT=…`.
    var defines: [String] { ["-D TS=\(tileSize)", "-D WPT=\(workPerThread)"] }
    public var description: String { "\(tileSize)x\(workPerThread)" }

    /// `TSxWPT`, e.g. `32x8`: exactly two decimal numbers with 1 ≤ TS ≤ ``maxTileSize``,
    /// 1 ≤ WPT ≤ TS and TS a multiple of WPT; nil for anything else (`32x8x`, `4000000000x1`).
    init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let ts = Int(parts[0]), let wpt = Int(parts[1]), Self.isValid(tileSize: ts, workPerThread: wpt)
        else { return nil }
        self.init(tileSize: ts, workPerThread: wpt)
    }

    /// A tile from the code's own constants (the table, the search space), which keep to ``isValid(tileSize:workPerThread:)``.
    init(tileSize: Int, workPerThread: Int) {
        self.tileSize = tileSize
        self.workPerThread = workPerThread
    }

    /// Whether TS and WPT make a tile the kernels can be built for, within ``maxTileSize``.
    static func isValid(tileSize ts: Int, workPerThread wpt: Int) -> Bool {
        (1...maxTileSize).contains(ts) && (1...ts).contains(wpt) && ts % wpt == 0
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let tile = GemmTile(text) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "'\(text)' is not a tile TSxWPT with 1 ≤ TS ≤ \(Self.maxTileSize) and WPT dividing TS")
        }
        self = tile
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
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
        fits(maxWorkGroupSize: device.maxWorkGroupSize, maxWorkItemSizes: device.maxWorkItemSizes,
            localMemoryBytes: device.localMemoryBytes)
    }

    /// ``fits(_:)`` on these limits; false for a tile outside ``isValid(tileSize:workPerThread:)``
    /// (a hand-made one), whose products could overflow.
    func fits(maxWorkGroupSize: Int, maxWorkItemSizes: [Int], localMemoryBytes: UInt64) -> Bool {
        guard Self.isValid(tileSize: tileSize, workPerThread: workPerThread) else { return false }
        let sizes = maxWorkItemSizes + [1, 1]
        let items = tileSize * tileSize / workPerThread
        let local = UInt64(2 * tileSize * (tileSize + 1) * MemoryLayout<Float>.size)
        return items <= maxWorkGroupSize && tileSize <= sizes[0] && tileSize / workPerThread <= sizes[1]
            && local <= localMemoryBytes
    }

    /// The table's tile for the device: its class's first preference that fits.
    static func tableDefault(for device: OpenCLDevice) -> GemmTile {
        let table = preferences(for: device.description)
        return table.first { $0.fits(device) } ?? table[table.count - 1]
    }

    /// The override (`RDLAB_GEMM_TILE`) if it parses and fits, else the tuned tile if it fits,
    /// else the table's default; with where it came from. `tuned` is asked only when the
    /// override does not apply, so an overridden device never reads (or warns about) its file.
    static func choose(for device: OpenCLDevice, override: String?, tuned: () -> TunedGemmTile?)
        -> (tile: GemmTile, origin: GemmTileChoice.Origin) {
        if let tile = override.flatMap(GemmTile.init), tile.fits(device) { return (tile, .environment) }
        if let tuned = tuned(), tuned.tile.fits(device) {
            return (tuned.tile, .tuned(date: tuned.tunedAt, speedup: tuned.speedup))
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

    public let tile: GemmTile
    public let origin: Origin
}
