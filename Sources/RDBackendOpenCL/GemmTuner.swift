import COpenCL
import Foundation
import RDCompute
import RDParity

/// One tile the tuner tried.
public struct GemmCandidateResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Correct; median device times of one size³ GEMM and of the conv layer's three passes.
        case timed(gemmMicroseconds: Double, convMicroseconds: Double)
        /// Not usable: it does not build or launch, or computes wrong numbers.
        case rejected(reason: String)
    }

    public let tile: GemmTile
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
    /// Every tile tried, in order; the table's default first.
    public let results: [GemmCandidateResult]
    /// Candidates left untried when the budget ran out.
    public let untried: Int
    /// Whether the search's best differed from the default and the two were timed again
    /// (``OpenCLBackend/confirmationRounds``): the record then holds those times.
    public let retimed: Bool
    public let record: TunedGemmTile
    public let file: URL
}

/// Why a tuning stored nothing.
public enum GemmTuningError: ReportableError, Equatable {
    /// `RDLAB_KERNEL_CACHE_DIR=off`: the result has nowhere to live.
    case noCacheDirectory(device: String)
    /// The table's own tile fails the check: the device or driver computes GEMMs wrongly.
    case defaultRejected(tile: GemmTile, device: DeviceDescription, reason: String)

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

    /// The timed convolution: the reference VAE's enc3 layer (14×14, 32→64 channels, 5×5, the
    /// tiled implicit GEMM in all three passes) at batch 100 on a GPU, 10 elsewhere.
    public var tuningConvLayer: Conv2DGeometry {
        Conv2DGeometry(batch: device.kind == .gpu ? 100 : 10, height: 14, width: 14, inChannels: 32, outChannels: 64,
            kernel: 5, stride: 1, padding: .same)
    }

    /// CLBlast-style search for this device's GEMM/conv tile: builds `gemm.cl` and `conv.cl`
    /// for each candidate (``GemmTile/candidates(for:)``, the table's default first), rejects
    /// any that fails to build or launch or whose results differ from the Double references
    /// (GEMMs of odd shapes with transposes and β ≠ 0, sampled rows of the timed size³ GEMM, and
    /// a small dense and a small masked conv in all three passes; ``TuningWorkload``), and times
    /// the rest on the device: after one warm-up run, the median of three runs of the size³ GEMM
    /// and of ``tuningConvLayer``'s three passes. The inputs and references are made before
    /// `budget` starts; the search stops starting candidates once `budget` seconds have passed,
    /// and the default is always measured. The tile with the least GEMM-plus-conv time is then
    /// timed again against the default, alternately (``confirmationRounds`` each), and replaces
    /// it only when still at least 3 % faster (below that it is timing noise); the result is
    /// stored as this device and driver's ``TunedGemmTile`` beside the kernel cache, and
    /// backends made afterwards use it. The candidates' programs are not written to the kernel cache.
    public func tuneGemm(size: Int, budget: TimeInterval, progress: (GemmTuningProgress) -> Void = { _ in }) throws
        -> GemmTuning {
        try tuneGemm(size: size, convLayer: tuningConvLayer, budget: budget, candidates: GemmTile.candidates(for: cl),
            sources: try TuningSources(directory: configuration.kernelDirectory), progress: progress)
    }

    /// Rounds of the final default-against-winner timing.
    public static let confirmationRounds = 3
    /// The least speed-up that replaces the default: 3 %, above the run-to-run noise.
    static let requiredGain = 0.97

    /// The search over `candidates` (the first is the default) with these kernel sources.
    func tuneGemm(size: Int, convLayer: Conv2DGeometry, budget: TimeInterval, candidates: [GemmTile],
        sources: TuningSources, progress: (GemmTuningProgress) -> Void) throws -> GemmTuning {
        guard let directory = configuration.cacheDirectory else { throw GemmTuningError.noCacheDirectory(device: displayName) }
        guard size > 0, let first = candidates.first else {
            throw ComputeError.invalidArgument(op: "tune", reason: "size \(size) and \(candidates.count) candidates")
        }
        let workload = try TuningWorkload(size: size, convLayer: convLayer, on: self)
        let clock = try tuningClock(workload)
        let programs = ProgramCache(api: api, device: cl, context: shared.context, directory: nil, logger: logger)
        let started = Date()
        var results: [GemmCandidateResult] = []
        for (index, tile) in candidates.enumerated() {
            if index > 0 && Date().timeIntervalSince(started) >= budget { break }
            let outcome: GemmCandidateResult.Outcome
            do {
                let candidate = try TuningCandidate(tile, on: self, programs: programs, sources: sources)
                try check(candidate, workload)
                let times = try time(candidate, workload, clock: clock, runs: 3)
                outcome = .timed(gemmMicroseconds: times.gemm, convMicroseconds: times.conv)
            } catch let rejection as TuningRejection {
                outcome = .rejected(reason: rejection.reason)
            } catch {
                outcome = .rejected(reason: "\(error)")
            }
            results.append(GemmCandidateResult(tile: tile, outcome: outcome))
            let spent = Date().timeIntervalSince(started)
            let left = min(max(budget - spent, 0), spent / Double(index + 1) * Double(candidates.count - index - 1))
            progress(GemmTuningProgress(index: index + 1, total: candidates.count, result: results[index], secondsLeft: left))
        }
        var standard: (gemm: Double, conv: Double)
        switch results[0].outcome {
        case .timed(let gemm, let conv): standard = (gemm, conv)
        case .rejected(let reason): throw GemmTuningError.defaultRejected(tile: first, device: device, reason: reason)
        }
        var best = (tile: first, gemm: standard.gemm, conv: standard.conv)
        for result in results.dropFirst() {
            guard case .timed(let gemm, let conv) = result.outcome else { continue }
            if gemm + conv < best.gemm + best.conv, gemm + conv <= Self.requiredGain * (standard.gemm + standard.conv) {
                best = (result.tile, gemm, conv)
            }
        }
        let retimed = best.tile != first
        if retimed {
            (standard, best) = try confirm(first, against: best.tile, workload: workload, clock: clock, programs: programs,
                sources: sources)
        }
        if best.gemm + best.conv > Self.requiredGain * (standard.gemm + standard.conv) {
            best = (first, standard.gemm, standard.conv)
        }
        let record = TunedGemmTile(device: device, kernelSources: sources.digest, tile: best.tile, defaultTile: first,
            size: size, convLayer: "\(convLayer)", defaultMicroseconds: standard.gemm, bestMicroseconds: best.gemm,
            defaultConvMicroseconds: standard.conv, bestConvMicroseconds: best.conv,
            tunedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))  // whole seconds, as the file holds them
        let file = try record.store(for: device, in: directory)
        return GemmTuning(results: results, untried: candidates.count - results.count, retimed: retimed, record: record,
            file: file)
    }

    /// The default and the search's winner timed again back to back, alternating one run of
    /// each per round after a warm-up of each, so that a drift of the machine's speed during the
    /// search (another process, the clock) cannot favour either; medians of the rounds.
    private func confirm(_ standard: GemmTile, against winner: GemmTile, workload: TuningWorkload, clock: TuningClock,
        programs: ProgramCache, sources: TuningSources) throws
        -> (standard: (gemm: Double, conv: Double), best: (tile: GemmTile, gemm: Double, conv: Double)) {
        let candidates = try [standard, winner].map { try TuningCandidate($0, on: self, programs: programs, sources: sources) }
        var times: [[(gemm: Double, conv: Double)]] = [[], []]
        for candidate in candidates { _ = try time(candidate, workload, clock: clock, runs: 1) }
        for _ in 0..<Self.confirmationRounds {
            for (index, candidate) in candidates.enumerated() {
                times[index].append(try time(candidate, workload, clock: clock, runs: 1, warmUp: false))
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let (d, w) = (times[0], times[1])
        return ((median(d.map(\.gemm)), median(d.map(\.conv))), (winner, median(w.map(\.gemm)), median(w.map(\.conv))))
    }

    /// Runs the candidate's GEMMs and convs on the workload's checked inputs and compares them with the references.
    private func check(_ candidate: TuningCandidate, _ workload: TuningWorkload) throws {
        for check in workload.gemmChecks {
            try upload(check.c, to: check.buffers.c)
            try launchGemm(check.descriptor, a: check.buffers.a, b: check.buffers.b, c: check.buffers.c, kernel: candidate.gemm,
                tile: candidate.tile)
            let result = try download(check.buffers.c)
            let n = check.descriptor.n
            let rows = check.rows.count == check.descriptor.m ? result : check.rows.flatMap { result[($0 * n)..<(($0 + 1) * n)] }
            try verify(rows, check.reference, "\(check.descriptor)")
        }
        for conv in workload.convChecks {
            for pass in [ConvPass.forward, .backwardData, .backwardFilter] {
                let result = try conv.run(pass, on: self, tiling: candidate.tiling)
                let what = conv.mask.map { "masked conv \(pass) \($0)" } ?? "conv \(pass) \(conv.geometry)"
                try verify(try download(result), conv.references[pass.rawValue], what)
            }
        }
    }

    private func verify(_ result: [Float], _ reference: [Double], _ what: String) throws {
        let error = nmse(result, reference)
        guard error <= GemmCheck.tolerance else {
            throw TuningRejection(reason: String(format: "wrong result on %@: NMSE %.2g against the reference", what, error))
        }
    }

    /// The candidate's median time of `runs` runs of the timed GEMM and of the conv layer's
    /// three passes, in µs of `clock`, each after one untimed warm-up run unless `warmUp` is false.
    private func time(_ candidate: TuningCandidate, _ workload: TuningWorkload, clock: TuningClock, runs: Int,
        warmUp: Bool = true) throws -> (gemm: Double, conv: Double) {
        let timed = workload.gemm
        let gemm = try clock.median(of: runs, warmUp: warmUp, on: self) {
            try launchGemm(timed.descriptor, a: timed.buffers.a, b: timed.buffers.b, c: timed.buffers.c, kernel: candidate.gemm,
                tile: candidate.tile)
        }
        let conv = try clock.median(of: runs, warmUp: warmUp, on: self) {
            for pass in [ConvPass.forward, .backwardData, .backwardFilter] {
                _ = try workload.convLayer.run(pass, on: self, tiling: candidate.tiling)
            }
        }
        return (gemm, conv)
    }

    /// The device's profiling timer if it times the backend's own GEMM on the workload, else wall
    /// time: one unit for every candidate.
    private func tuningClock(_ workload: TuningWorkload) throws -> TuningClock {
        let check = workload.gemmChecks[0]
        try startDeviceTimer()
        try gemm(check.descriptor, a: check.buffers.a, b: check.buffers.b, c: check.buffers.c)
        return try stopDeviceTimer() == nil ? .wall : .device
    }
}
