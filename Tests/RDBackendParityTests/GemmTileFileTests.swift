import Foundation
import RDCompute
import RDTestSupport
import Testing

@testable import RDBackendOpenCL

/// What the OpenCL backend reads about its GEMM tile from outside (`RDLAB_GEMM_TILE`, the
/// tuning file): bounded, checked against the kernel sources, and never a trap. No OpenCL
/// device is needed.
@Suite("GEMM tile parsing and tuning files")
struct GemmTileFileTests {
    static let device = DeviceDescription(backend: "opencl", index: 0, name: "Test Device", vendor: "Test", kind: .cpu,
        globalMemoryBytes: 1 << 30, computeUnits: 2, driverVersion: "1.0", platformName: "Test", platformVersion: "OpenCL 3.0")

    /// A kernel cache of its own, removed by the caller.
    static func cache() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-tile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func record(_ tile: GemmTile, sources: String = "sources") -> TunedGemmTile {
        TunedGemmTile(device: device, kernelSources: sources, tile: tile, defaultTile: GemmTile(tileSize: 64, workPerThread: 16),
            size: 64, convLayer: "test", defaultMicroseconds: 100, bestMicroseconds: 80, defaultConvMicroseconds: 30,
            bestConvMicroseconds: 20, tunedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    /// Only `TSxWPT` with 1 ≤ TS ≤ 1024 and WPT dividing TS parses; nothing else, however close.
    @Test func tileTextIsBounded() {
        #expect(GemmTile("32x8") == GemmTile(tileSize: 32, workPerThread: 8))
        #expect(GemmTile("1024X1") == GemmTile(tileSize: 1024, workPerThread: 1))
        for text in ["4000000000x1", "9223372036854775807x1", "2048x1", "32x8x", "x32x8", "32x", "x8", "32", "0x1", "8x16",
            "32x7", "-32x8", "+32x8", "32x-8", " 32x8", "32x8 ", "32x0", "", "x", "٣٢x8"] {
            #expect(GemmTile(text) == nil, "'\(text)'")
        }
    }

    /// `fits` answers for any tile, also one made by hand beyond the bounds, without overflowing.
    @Test func fitsNeverOverflows() {
        let limits = (group: 1024, items: [1024, 1024, 1024], local: UInt64(64 << 10))
        func fits(_ tile: GemmTile) -> Bool {
            tile.fits(maxWorkGroupSize: limits.group, maxWorkItemSizes: limits.items, localMemoryBytes: limits.local)
        }
        #expect(fits(GemmTile(tileSize: 64, workPerThread: 16)))
        #expect(!fits(GemmTile(tileSize: 128, workPerThread: 16)))  // 132 KiB of local memory
        #expect(!fits(GemmTile(tileSize: 4_000_000_000, workPerThread: 1)))
        #expect(!fits(GemmTile(tileSize: .max, workPerThread: 1)))
        #expect(!fits(GemmTile(tileSize: 32, workPerThread: 0)))
    }

    /// A tuning file with a huge or malformed tile is damaged (named, with the field), not a
    /// tile; the file round-trips otherwise.
    @Test func hugeTileInAFileIsDamaged() throws {
        let cache = try Self.cache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let record = Self.record(GemmTile(tileSize: 16, workPerThread: 4))
        let file = try record.store(for: Self.device, in: cache)
        #expect(TunedGemmTile.load(for: Self.device, in: cache, sources: "sources") == .found(record))
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("\"tile\" : \"16x4\""), "\(text)")
        for bad in ["4000000000x1", "32x8x", "1x0"] {
            try Data(text.replacingOccurrences(of: "\"tile\" : \"16x4\"", with: "\"tile\" : \"\(bad)\"").utf8).write(to: file)
            guard case .damaged(let path, let reason) = TunedGemmTile.load(for: Self.device, in: cache, sources: "sources") else {
                Issue.record("the tile \(bad) was taken")
                continue
            }
            #expect(path == file.path && reason.contains("tile") && reason.contains(bad), "\(reason)")
        }
    }

    /// A record measured with other kernel sources is not taken: one NOTICE naming the file for
    /// the whole process, however many backends look; a damaged file likewise one WARN.
    @Test func otherKernelSourcesAreIgnoredOnce() throws {
        let cache = try Self.cache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let file = try Self.record(GemmTile(tileSize: 16, workPerThread: 4), sources: "old kernels")
            .store(for: Self.device, in: cache)
        #expect(TunedGemmTile.load(for: Self.device, in: cache, sources: "new kernels") == .otherKernels(path: file.path))
        let log = LogRecorder()
        for _ in 0..<3 {
            #expect(TunedGemmTile.tuned(for: Self.device, in: cache, sources: "new kernels", logger: log.logger) == nil)
        }
        #expect(log.lines.count == 1 && log.lines.first?.0 == .notice && log.lines.first?.1.contains(file.path) == true,
            "\(log.lines)")
        try Data("{\"tile\": \"64x".utf8).write(to: file)
        let damaged = LogRecorder()
        for _ in 0..<3 {
            #expect(TunedGemmTile.tuned(for: Self.device, in: cache, sources: "new kernels", logger: damaged.logger) == nil)
        }
        // the path was reported once already (as other kernels): nothing more this process
        #expect(damaged.lines.isEmpty, "\(damaged.lines)")
    }

    /// The timed GEMM's check reads every row of a small C and at most 65 rows of a large one,
    /// first and last included, so its reference is O(65·size²) at any --size.
    @Test func timedGemmCheckSamplesRows() {
        #expect(TuningWorkload.sampledRows(of: 40) == Array(0..<40))
        #expect(TuningWorkload.sampledRows(of: 64) == Array(0..<64))
        for size in [65, 100, 512, 1000, 8192] {
            let rows = TuningWorkload.sampledRows(of: size)
            #expect(rows.count >= 32 && rows.count <= TuningWorkload.checkedRows + 1, "\(size): \(rows.count)")
            #expect(rows.first == 0 && rows.last == size - 1 && zip(rows, rows.dropFirst()).allSatisfy { $0 < $1 }, "\(size)")
        }
    }

    /// The digest follows every source the tuned tile depends on.
    @Test func sourcesDigestCoversGemmConvAndMasked() {
        let base = TuningSources(gemm: "g", conv: "c", masked: "m")
        #expect(base.digest == TuningSources(gemm: "g", conv: "c", masked: "m").digest)
        for other in [TuningSources(gemm: "g2", conv: "c", masked: "m"), TuningSources(gemm: "g", conv: "c2", masked: "m"),
            TuningSources(gemm: "g", conv: "c", masked: "m2"), TuningSources(gemm: "gc", conv: "", masked: "m")] {
            #expect(other.digest != base.digest)
        }
    }
}
