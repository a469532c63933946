import COpenCL
import Foundation
import RDCompute

/// One tile the tuner tried.
public struct GemmCandidateResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Correct; median device times of one size³ GEMM and of the conv layer's three passes.
        case timed(gemmMicroseconds: Double, convMicroseconds: Double)
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

    /// The timed convolution: the reference VAE's enc3 layer (14×14, 32→64 channels, 5×5, the
    /// tiled implicit GEMM in all three passes) at batch 100 on a GPU, 10 elsewhere.
    public var tuningConvLayer: Conv2DGeometry {
        Conv2DGeometry(batch: device.kind == .gpu ? 100 : 10, height: 14, width: 14, inChannels: 32, outChannels: 64,
            kernel: 5, stride: 1, padding: .same)
    }

    /// CLBlast-style search for this device's GEMM/conv tile: builds `gemm.cl` and `conv.cl`
    /// for each candidate (``GemmTile/candidates(for:)``, the table's default first), rejects
    /// any that fails to build or launch or whose results differ from the Double references
    /// (GEMMs of odd shapes with transposes and β ≠ 0, the timed size³ GEMM, and a small conv in
    /// all three passes; ``GemmCheck``), and times the rest on the device: median of three runs
    /// of the size³ GEMM and of ``tuningConvLayer``'s three passes. The search stops starting
    /// candidates once `budget` seconds have passed; the default is always measured. The tile
    /// with the least GEMM-plus-conv time replaces the default only when at least 3 % faster
    /// (below that it is timing noise), and is stored as this device and driver's
    /// ``TunedGemmTile`` beside the kernel cache; backends made afterwards use it. The
    /// candidates' programs are not written to the kernel cache.
    public func tuneGemm(size: Int, budget: TimeInterval, progress: (GemmTuningProgress) -> Void = { _ in }) throws
        -> GemmTuning {
        let sources = (gemm: try KernelSource.text(of: .gemm, directory: configuration.kernelDirectory),
            conv: try KernelSource.text(of: .conv, directory: configuration.kernelDirectory))
        return try tuneGemm(size: size, convLayer: tuningConvLayer, budget: budget, candidates: GemmTile.candidates(for: cl),
            sources: sources, progress: progress)
    }

    /// The search over `candidates` (the first is the default) with these kernel sources.
    func tuneGemm(size: Int, convLayer: Conv2DGeometry, budget: TimeInterval, candidates: [GemmTile],
        sources: (gemm: String, conv: String), progress: (GemmTuningProgress) -> Void) throws -> GemmTuning {
        guard let directory = configuration.cacheDirectory else { throw GemmTuningError.noCacheDirectory(device: displayName) }
        guard size > 0, let first = candidates.first else {
            throw ComputeError.invalidArgument(op: "tune", reason: "size \(size) and \(candidates.count) candidates")
        }
        let workload = try TuningWorkload(size: size, convLayer: convLayer, on: self)
        let programs = ProgramCache(api: api, device: cl, context: shared.context, directory: nil, logger: logger)
        let started = Date()
        var results: [GemmCandidateResult] = []
        for (index, tile) in candidates.enumerated() {
            if index > 0 && Date().timeIntervalSince(started) >= budget { break }
            let outcome = measure(tile, workload: workload, programs: programs, sources: sources)
            results.append(GemmCandidateResult(tile: tile.description, outcome: outcome))
            let spent = Date().timeIntervalSince(started)
            let left = min(max(budget - spent, 0), spent / Double(index + 1) * Double(candidates.count - index - 1))
            progress(GemmTuningProgress(index: index + 1, total: candidates.count, result: results[index], secondsLeft: left))
        }
        let standard: (gemm: Double, conv: Double)
        switch results[0].outcome {
        case .timed(let gemm, let conv): standard = (gemm, conv)
        case .rejected(let reason): throw GemmTuningError.defaultRejected(tile: first.description, device: device, reason: reason)
        }
        var best = (tile: first.description, gemm: standard.gemm, conv: standard.conv)
        for result in results.dropFirst() {
            guard case .timed(let gemm, let conv) = result.outcome else { continue }
            if gemm + conv < best.gemm + best.conv, gemm + conv <= 0.97 * (standard.gemm + standard.conv) {
                best = (result.tile, gemm, conv)
            }
        }
        let record = TunedGemmTile(device: device, tile: best.tile, defaultTile: first.description, size: size,
            convLayer: "\(convLayer)", defaultMicroseconds: standard.gemm, bestMicroseconds: best.gemm,
            defaultConvMicroseconds: standard.conv, bestConvMicroseconds: best.conv,
            tunedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))  // whole seconds, as the file holds them
        let file = try record.store(for: device, in: directory)
        return GemmTuning(results: results, untried: candidates.count - results.count, record: record, file: file)
    }

    /// A candidate's rejection, with the reason shown to the user.
    private struct Rejection: Error {
        let reason: String
    }

    /// Builds, checks and times one tile; any failure is the candidate's rejection.
    private func measure(_ tile: GemmTile, workload: TuningWorkload, programs: ProgramCache,
        sources: (gemm: String, conv: String)) -> GemmCandidateResult.Outcome {
        var built: [cl_kernel] = []
        defer { for kernel in built { _ = api.releaseKernel(kernel) } }
        do {
            func make(_ family: KernelFamily, _ name: String, _ source: String) throws -> cl_kernel {
                let program = try programs.program(family: family.name, source: source, options: family.buildOptions(tile: tile))
                var code: cl_int = 0
                guard let kernel = api.createKernel(program, name, &code), code == CL_SUCCESS else {
                    throw Rejection(reason: "clCreateKernel(\(name)) failed with \(code)")
                }
                built.append(kernel)
                let items = tile.localSize[0] * tile.localSize[1]
                var allowed = 0
                if api.getKernelWorkGroupInfo(kernel, cl.id, cl_uint(CL_KERNEL_WORK_GROUP_SIZE), MemoryLayout<Int>.size,
                    &allowed, nil) == CL_SUCCESS, allowed > 0, allowed < items {
                    throw Rejection(reason: "\(name) needs \(items) work-items per group; its build allows \(allowed)")
                }
                return kernel
            }
            let gemm = try make(.gemm, "gemm", sources.gemm)
            let tiling = ConvTiling(tile: tile, dense: try make(.conv, "conv2d_gemm", sources.conv),
                masked: try make(.conv, "masked_conv2d_gemm", sources.conv))
            for check in workload.gemmChecks {
                try upload(check.c, to: check.buffers.c)
                try launchGemm(check.descriptor, a: check.buffers.a, b: check.buffers.b, c: check.buffers.c, kernel: gemm, tile: tile)
                try verify(try download(check.buffers.c), check.reference, "\(check.descriptor)")
            }
            let conv = workload.convCheck
            for pass in [ConvPass.forward, .backwardData, .backwardFilter] {
                let result = try conv.run(pass, on: self, tiling: tiling)
                try verify(try download(result), conv.references[pass.rawValue], "conv \(pass) \(conv.geometry)")
            }
            let timed = workload.gemm
            let gemmTime = try medianTime {
                try launchGemm(timed.descriptor, a: timed.buffers.a, b: timed.buffers.b, c: timed.buffers.c, kernel: gemm, tile: tile)
            }
            let convTime = try medianTime {
                for pass in [ConvPass.forward, .backwardData, .backwardFilter] {
                    _ = try workload.convLayer.run(pass, on: self, tiling: tiling)
                }
            }
            return .timed(gemmMicroseconds: gemmTime, convMicroseconds: convTime)
        } catch let rejection as Rejection {
            return .rejected(reason: rejection.reason)
        } catch {
            return .rejected(reason: "\(error)")
        }
    }

    private func verify(_ result: [Float], _ reference: [Double], _ what: String) throws {
        let error = GemmCheck.error(result, reference: reference)
        guard error <= GemmCheck.tolerance else {
            throw Rejection(reason: String(format: "wrong result on %@: NMSE %.2g against the reference", what, error))
        }
    }

    /// Median device time (wall time where profiling gives none) of three runs of `body`, in µs.
    private func medianTime(_ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            try startDeviceTimer()
            try body()
            times.append(try stopDeviceTimer() ?? Date().timeIntervalSince(start) * 1e6)
        }
        return times.sorted()[1]
    }
}
