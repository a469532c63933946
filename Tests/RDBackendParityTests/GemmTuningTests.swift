import Foundation
import RDCompute
import RDParity
import RDTestSupport
import Testing

@testable import RDBackendOpenCL

/// `rdlab tune`'s search and its stored result (`GemmTuner.swift`, `TunedGemmTile.swift`).
/// Each test has a kernel cache of its own, removed afterwards.
@Suite("GEMM tuning")
struct GemmTuningTests {
    /// The first OpenCL device and an empty kernel cache; nil (and skipped) without a device.
    static func device() throws -> (DeviceDescription, URL)? {
        guard let device = try? OpenCLBackendFactory().devices().first else {
            #expect(!AvailableBackends.openCLRequired, "no OpenCL device")
            return nil
        }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-tune-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        return (device, cache)
    }

    static func backend(on device: DeviceDescription, cache: URL, override: String? = nil,
        logger: Logger = Logger(label: "test")) throws -> OpenCLBackend {
        let factory = OpenCLBackendFactory(configuration: OpenCLConfiguration(cacheDirectory: cache, gemmTile: override),
            logger: logger)
        return try #require(try factory.makeBackend(on: device) as? OpenCLBackend)
    }

    /// A small timed conv layer, so the tests stay quick in debug builds.
    static let layer = Conv2DGeometry(batch: 1, height: 6, width: 6, inChannels: 16, outChannels: 16, kernel: 3, stride: 1,
        padding: .same)

    /// The embedded kernel sources' digest, which a backend without RDLAB_KERNEL_DIR checks records against.
    static var embedded: TuningSources { get throws { try TuningSources(directory: nil) } }

    static func record(_ tile: GemmTile, on device: DeviceDescription) throws -> TunedGemmTile {
        TunedGemmTile(device: device, kernelSources: try embedded.digest, tile: tile, defaultTile: GemmTile(tileSize: 64, workPerThread: 16), size: 64, convLayer: "test", defaultMicroseconds: 100,
            bestMicroseconds: 80, defaultConvMicroseconds: 30, bestConvMicroseconds: 20,
            tunedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    /// The search on a small GEMM with a budget that ends it after the default tile: it stores
    /// a file, counts the untried tiles, and the next backend on the device uses the result;
    /// with the kernel cache off there is nowhere to store it, which is an error up front.
    @Test func tuningStoresAFileThatNewBackendsUse() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        let backend = try Self.backend(on: device, cache: cache)
        #expect(backend.gemmTileChoice.origin == .table)
        let candidates = GemmTile.candidates(for: backend.cl)
        let tuning = try backend.tuneGemm(size: 40, budget: 0.001)
        #expect(tuning.results.count == 1 && tuning.untried == candidates.count - 1)
        #expect(tuning.results[0].tile == GemmTile.tableDefault(for: backend.cl))
        #expect(tuning.file == TunedGemmTile.file(for: device, in: cache))
        #expect(TunedGemmTile.load(for: device, in: cache, sources: try Self.embedded.digest) == .found(tuning.record))
        #expect(tuning.record.tile == tuning.results[0].tile && tuning.record.speedup == 1)
        let next = try Self.backend(on: device, cache: cache)
        #expect(next.gemmTileChoice == GemmTileChoice(tile: tuning.record.tile,
            origin: .tuned(date: tuning.record.tunedAt, speedup: 1)))
        let uncached = try #require(try OpenCLBackendFactory(configuration: OpenCLConfiguration(cacheDirectory: nil))
            .makeBackend(on: device) as? OpenCLBackend)
        #expect(throws: GemmTuningError.noCacheDirectory(device: uncached.displayName)) {
            try uncached.tuneGemm(size: 40, budget: 0.001)
        }
    }

    /// The candidates: the table's default first, no repeats, each within the device's limits.
    @Test func candidatesStartWithTheDefaultAndFit() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        let cl = try Self.backend(on: device, cache: cache).cl
        let candidates = GemmTile.candidates(for: cl)
        #expect(candidates.first == GemmTile.tableDefault(for: cl))
        #expect(Set(candidates).count == candidates.count && candidates.allSatisfy { $0.fits(cl) } && candidates.count > 4)
    }

    /// A stored tile other than the default is what a new backend computes with (correctly),
    /// and RDLAB_GEMM_TILE still overrides it.
    @Test func storedTileIsUsedAndOverridable() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try Self.record(GemmTile(tileSize: 16, workPerThread: 4), on: device).store(for: device, in: cache)
        let backend = try Self.backend(on: device, cache: cache)
        #expect(backend.gemmTile == GemmTile(tileSize: 16, workPerThread: 4))
        #expect(backend.gemmTileChoice.origin == .tuned(date: Date(timeIntervalSince1970: 1_800_000_000), speedup: 1.3))
        let d = GemmDescriptor(m: 19, n: 23, k: 17)
        let a = GemmCheck.values(19 * 17, seed: 3), b = GemmCheck.values(17 * 23, seed: 4)
        let c = try backend.makeBuffer(count: 19 * 23)
        try backend.gemm(d, a: try backend.makeBuffer(a), b: try backend.makeBuffer(b), c: c)
        #expect(nmse(try backend.download(c), Reference.gemm(d, a, b, [])) < 1e-10)
        // other kernels (RDLAB_KERNEL_DIR with a changed gemm.cl): the record is not theirs
        let kernels = cache.appendingPathComponent("kernels")
        try FileManager.default.createDirectory(at: kernels, withIntermediateDirectories: true)
        for family in KernelFamily.all {
            let text = try KernelSource.text(of: family, directory: nil) + (family == .gemm ? "\n// changed\n" : "")
            try Data(text.utf8).write(to: kernels.appendingPathComponent("\(family.name).cl"))
        }
        let log = LogRecorder()
        let changed = try #require(try OpenCLBackendFactory(configuration: OpenCLConfiguration(kernelDirectory: kernels,
            cacheDirectory: cache), logger: log.logger).makeBackend(on: device) as? OpenCLBackend)
        #expect(changed.gemmTileChoice.origin == .table)
        #expect(log.lines.filter { $0.1.contains("other kernel sources") }.count == 1, "\(log.lines)")
        let overridden = try Self.backend(on: device, cache: cache, override: "32x8")
        #expect(overridden.gemmTileChoice == GemmTileChoice(tile: GemmTile(tileSize: 32, workPerThread: 8), origin: .environment))
    }

    /// A record of another driver is not taken: under its own key it is never found, and copied
    /// under this driver's key it is reported and ignored.
    @Test func otherDriverIsIgnored() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        var other = device
        other.driverVersion += "-next"
        let foreign = try Self.record(GemmTile(tileSize: 16, workPerThread: 4), on: other).store(for: other, in: cache)
        #expect(foreign != TunedGemmTile.file(for: device, in: cache))
        #expect(TunedGemmTile.load(for: device, in: cache, sources: try Self.embedded.digest) == .absent)
        #expect(try Self.backend(on: device, cache: cache).gemmTileChoice.origin == .table)
        try FileManager.default.copyItem(at: foreign, to: TunedGemmTile.file(for: device, in: cache))
        guard case .damaged(_, let reason) = TunedGemmTile.load(for: device, in: cache, sources: try Self.embedded.digest) else {
            Issue.record("a record of driver \(other.driverVersion) was taken for \(device.driverVersion)")
            return
        }
        #expect(reason.contains("-next"))
        #expect(try Self.backend(on: device, cache: cache).gemmTileChoice.origin == .table)
    }

    /// A damaged file is one WARN naming its path, and the backend falls back to the table;
    /// under RDLAB_GEMM_TILE the file is not read, so not reported either.
    @Test func damagedFileFallsBackWithAMessage() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        let file = TunedGemmTile.file(for: device, in: cache)
        try Data("{\"tile\": \"64x".utf8).write(to: file)
        let overridden = LogRecorder()
        #expect(try Self.backend(on: device, cache: cache, override: "16x4", logger: overridden.logger).gemmTileChoice.origin
            == .environment)
        #expect(overridden.lines.allSatisfy { $0.0 != .warning }, "\(overridden.lines)")
        let log = LogRecorder()
        let backend = try Self.backend(on: device, cache: cache, logger: log.logger)
        #expect(backend.gemmTileChoice.origin == .table)
        let warnings = log.lines.filter { $0.0 == .warning }.map(\.1)
        #expect(warnings.count == 1 && warnings.first?.contains(file.path) == true, "\(warnings)")
    }

    /// The checker flags a corrupted result; a tile whose GEMM or conv kernel computes wrong
    /// numbers is rejected and never stored, even when it is the only other candidate.
    @Test func wrongTileIsRejected() throws {
        guard let (device, cache) = try Self.device() else { return }
        defer { try? FileManager.default.removeItem(at: cache) }
        let reference = [1.0, -2.0, 3.0]
        #expect(nmse([1, -2, 3], reference) == 0)
        #expect(nmse([1, -2, 3.01], reference) > GemmCheck.tolerance)
        #expect(nmse([1, -2, .nan], reference) == .infinity && nmse([1, -2], reference) == .infinity)
        let backend = try Self.backend(on: device, cache: cache)
        let source = try KernelSource.text(of: .gemm, directory: nil)
        let accumulate = "acc[w] = fma(As[ty + w * RTS][k], b, acc[w]);"
        #expect(source.contains(accumulate))
        // only the 16x4 build drifts: 10⁻³ per step of k
        let wrong = source.replacingOccurrences(of: accumulate,
            with: "acc[w] = fma(As[ty + w * RTS][k], b, acc[w]) + (TS == 16 ? 1e-3f : 0.0f);")
        let bad = GemmTile(tileSize: 16, workPerThread: 4)
        let first = GemmTile.tableDefault(for: backend.cl)
        let conv = try KernelSource.text(of: .conv, directory: nil)
        /// Tunes the default and 16x4 with `sources`: the default is stored, and 16x4's
        /// rejection is returned (nil, and an issue, if it was accepted).
        func rejection(_ sources: TuningSources) throws -> (reason: String?, tuning: GemmTuning) {
            let tuning = try backend.tuneGemm(size: 32, convLayer: Self.layer, budget: 60, candidates: [first, bad],
                sources: sources) { _ in }
            #expect(tuning.record.tile == first && tuning.record.kernelSources == sources.digest)
            guard case .rejected(let reason) = tuning.results[1].outcome else {
                Issue.record("a wrong 16x4 build was accepted: \(tuning.results[1])")
                return (nil, tuning)
            }
            return (reason, tuning)
        }
        let masked = try Self.embedded.masked
        let wrongSources = TuningSources(gemm: wrong, conv: conv, masked: masked)
        let (reason, tuning) = try rejection(wrongSources)
        #expect(reason?.contains("wrong result") == true, "\(reason ?? "-")")
        #expect(TunedGemmTile.load(for: device, in: cache, sources: wrongSources.digest) == .found(tuning.record))
        // a conv build that drifts for 16x4 is caught by the conv check
        let convAccumulate = "acc[w] = fma(As[ty + w * RTS][k], bv, acc[w]);"
        #expect(conv.contains(convAccumulate))
        let wrongConv = conv.replacingOccurrences(of: convAccumulate,
            with: "acc[w] = fma(As[ty + w * RTS][k], bv, acc[w]) + (TS == 16 ? 1e-3f : 0.0f);")
        let convReason = try rejection(TuningSources(gemm: source, conv: wrongConv, masked: masked)).reason
        #expect(convReason?.contains("wrong result on conv") == true, "\(convReason ?? "-")")
        // a masked conv build that drifts for 16x4 (the dense one right) is caught by the masked check
        let wrongMasked = conv.replacingOccurrences(of: convAccumulate,
            with: "acc[w] = fma(As[ty + w * RTS][k], bv, acc[w]) + (masked && TS == 16 ? 1e-3f : 0.0f);")
        let maskedReason = try rejection(TuningSources(gemm: source, conv: wrongMasked, masked: masked)).reason
        #expect(maskedReason?.contains("wrong result on masked conv") == true, "\(maskedReason ?? "-")")
        // the default itself wrong: an error, and nothing stored
        try FileManager.default.removeItem(at: tuning.file)
        #expect(throws: GemmTuningError.self) {
            try backend.tuneGemm(size: 32, convLayer: Self.layer, budget: 60, candidates: [bad], sources: wrongSources) { _ in }
        }
        #expect(TunedGemmTile.load(for: device, in: cache, sources: try Self.embedded.digest) == .absent)
    }
}
