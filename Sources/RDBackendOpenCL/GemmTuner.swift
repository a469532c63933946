import COpenCL
import Foundation
import RDCompute

/// One tile the tuner tried.
public struct GemmCandidateResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Correct; the median device time of one size³ GEMM.
        case timed(microseconds: Double)
        /// Not usable: it does not build or launch, or computes wrong numbers.
        case rejected(reason: String)
    }

    /// `TSxWPT`.
    public let tile: String
    public let outcome: Outcome
}

/// A step of the search, for progress lines.
public struct GemmTuningProgress: Sendable {
    /// 1-based position of this candidate among `total`.
    public let index: Int
    public let total: Int
    public let result: GemmCandidateResult
    /// Estimated seconds left: the mean time per candidate so far times those left, at most the budget left.
    public let secondsLeft: Double
}

/// What `rdlab tune` found and stored.
public struct GemmTuning: Sendable {
    /// m = n = k of the timed GEMM.
    public let size: Int
    /// Every tile tried, in order; the table's default first.
    public let results: [GemmCandidateResult]
    /// Candidates left untried when the budget ran out.
    public let untried: Int
    public let record: TunedGemmTile
    public let file: URL
}

/// Why a tuning stored nothing.
public enum GemmTuningError: ReportableError, Equatable {
    /// `RDLAB_KERNEL_CACHE_DIR=off`: the result has nowhere to live.
    case noCacheDirectory(device: String)
    /// The table's own tile fails the check: the device or driver computes GEMMs wrongly.
    case defaultRejected(tile: String, device: DeviceDescription, reason: String)

    public var description: String {
        switch self {
        case .noCacheDirectory(let device):
            return "cannot tune \(device): the kernel cache is off (RDLAB_KERNEL_CACHE_DIR=off), and the tuned tile is stored there; set RDLAB_KERNEL_CACHE_DIR to a directory or unset it"
        case .defaultRejected(let tile, let device, let reason):
            return "the default GEMM tile \(tile) fails its check on \(device.selector) (\(device.name)): \(reason); nothing was stored. Run `rdlab selftest --backend \(device.selector)` and check the driver"
        }
    }
}

extension OpenCLBackend {
    /// The tuning GEMM's default size: 1024³ on a GPU; 512³ elsewhere (a CPU device such as
    /// PoCL runs it 10–100× slower, so the search stays within minutes).
    public var defaultTuningSize: Int { device.kind == .gpu ? 1024 : 512 }

    /// CLBlast-style search for this device's GEMM tile: builds `gemm.cl` for each candidate
    /// (``GemmTile/candidates(for:)``, the table's default first), rejects any that fails to
    /// build or launch or whose result on the edge shapes or on the timed size³ GEMM differs from
    /// the Double reference (``GemmCheck``), and times the rest on the device (median of three
    /// runs after a warm-up). The search stops starting candidates once `budget` seconds have
    /// passed; the default is always measured. The fastest correct tile replaces the default
    /// only when at least 3 % faster (below that it is timing noise), and is stored as this
    /// device and driver's ``TunedGemmTile`` beside the kernel cache; backends made afterwards
    /// use it. The candidates' programs are not written to the kernel cache.
    public func tuneGemm(size: Int, budget: TimeInterval, progress: (GemmTuningProgress) -> Void = { _ in }) throws
        -> GemmTuning {
        try tuneGemm(size: size, budget: budget, candidates: GemmTile.candidates(for: cl),
            source: KernelSource.text(of: .gemm, directory: configuration.kernelDirectory), progress: progress)
    }

    /// The search over `candidates` (the first is the default) with the GEMM kernel `source`.
    func tuneGemm(size: Int, budget: TimeInterval, candidates: [GemmTile], source: String,
        progress: (GemmTuningProgress) -> Void) throws -> GemmTuning {
        guard let directory = configuration.cacheDirectory else { throw GemmTuningError.noCacheDirectory(device: displayName) }
        guard size > 0, let first = candidates.first else {
            throw ComputeError.invalidArgument(op: "tune", reason: "size \(size) and \(candidates.count) candidates")
        }
        let workload = try GemmWorkload(size: size, on: self)
        let programs = ProgramCache(api: api, device: cl, context: shared.context, directory: nil, logger: logger)
        let started = Date()
        var results: [GemmCandidateResult] = []
        for (index, tile) in candidates.enumerated() {
            let elapsed = Date().timeIntervalSince(started)
            if index > 0 && elapsed >= budget { break }
            let outcome = measure(tile, workload: workload, programs: programs, source: source)
            results.append(GemmCandidateResult(tile: tile.description, outcome: outcome))
            let spent = Date().timeIntervalSince(started)
            let left = min(max(budget - spent, 0), spent / Double(index + 1) * Double(candidates.count - index - 1))
            progress(GemmTuningProgress(index: index + 1, total: candidates.count, result: results[index], secondsLeft: left))
        }
        let defaultTime: Double
        switch results[0].outcome {
        case .timed(let microseconds): defaultTime = microseconds
        case .rejected(let reason): throw GemmTuningError.defaultRejected(tile: first.description, device: device, reason: reason)
        }
        var best = (tile: first.description, time: defaultTime)
        for result in results.dropFirst() {
            if case .timed(let time) = result.outcome, time < best.time, time <= 0.97 * defaultTime { best = (result.tile, time) }
        }
        let record = TunedGemmTile(device: device, tile: best.tile, defaultTile: first.description, size: size,
            defaultMicroseconds: defaultTime, bestMicroseconds: best.time,
            tunedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))  // whole seconds, as the file holds them
        let file = try record.store(for: device, in: directory)
        return GemmTuning(size: size, results: results, untried: candidates.count - results.count, record: record, file: file)
    }

    /// Builds, checks and times one tile; any failure is the candidate's rejection.
    private func measure(_ tile: GemmTile, workload: GemmWorkload, programs: ProgramCache, source: String)
        -> GemmCandidateResult.Outcome {
        do {
            let program = try programs.program(family: "gemm", source: source, options: KernelFamily.gemm.buildOptions(tile: tile))
            var code: cl_int = 0
            guard let kernel = api.createKernel(program, "gemm", &code), code == CL_SUCCESS else {
                return .rejected(reason: "clCreateKernel failed with \(code)")
            }
            defer { _ = api.releaseKernel(kernel) }
            var allowed = 0
            if api.getKernelWorkGroupInfo(kernel, cl.id, cl_uint(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size,
                &allowed, nil) == CL_SUCCESS, allowed > 0, allowed < tile.localSize[0] * tile.localSize[1] {
                return .rejected(reason: "needs \(tile.localSize[0] * tile.localSize[1]) work-items per group, the compiled kernel allows \(allowed)")
            }
            for check in workload.checks {
                try upload(check.c, to: check.buffers.c)
                try launchGemm(check.descriptor, a: check.buffers.a, b: check.buffers.b, c: check.buffers.c, kernel: kernel, tile: tile)
                let error = GemmCheck.error(try download(check.buffers.c), reference: check.reference)
                guard error <= GemmCheck.tolerance else {
                    return .rejected(reason: String(format: "wrong result on %@: NMSE %.2g against the reference", "\(check.descriptor)", error))
                }
            }
            var times: [Double] = []
            for _ in 0..<3 {
                let start = Date()
                try startDeviceTimer()
                try launchGemm(workload.timed.descriptor, a: workload.timed.buffers.a, b: workload.timed.buffers.b,
                    c: workload.timed.buffers.c, kernel: kernel, tile: tile)
                times.append(try stopDeviceTimer() ?? Date().timeIntervalSince(start) * 1e6)
            }
            return .timed(microseconds: times.sorted()[1])
        } catch {
            return .rejected(reason: "\(error)")
        }
    }
}

/// The tuner's inputs on the device, with their references: the edge-shape checks and the
/// timed square GEMM (whose first run is checked too).
private struct GemmWorkload {
    struct Case {
        let descriptor: GemmDescriptor
        let buffers: (a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer)
        let c: [Float]
        let reference: [Double]
    }

    let checks: [Case]
    let timed: Case

    init(size: Int, on backend: OpenCLBackend) throws {
        func make(_ d: GemmDescriptor, seed: UInt64) throws -> Case {
            let a = GemmCheck.values(d.m * d.k, seed: seed), b = GemmCheck.values(d.k * d.n, seed: seed + 1)
            let c = GemmCheck.values(d.m * d.n, seed: seed + 2)
            return Case(descriptor: d, buffers: (try backend.makeBuffer(a), try backend.makeBuffer(b), try backend.makeBuffer(c)),
                c: c, reference: GemmCheck.reference(d, a: a, b: b, c: c))
        }
        let timed = try make(GemmDescriptor(m: size, n: size, k: size), seed: 1)
        checks = try GemmCheck.edgeCases.enumerated().map { try make($0.element, seed: UInt64(10 * ($0.offset + 2))) } + [timed]
        self.timed = timed
    }
}
