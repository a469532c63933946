import COpenCL
import Foundation
import RDCompute

/// Why the tuner rejected a candidate tile, as shown to the user.
struct TuningRejection: Error {
    let reason: String
}

/// One candidate tile's build of `gemm`, `conv2d_gemm` and `masked_conv2d_gemm`, released with it.
final class TuningCandidate {
    let tile: GemmTile
    let gemm: cl_kernel
    let tiling: OpenCLBackend.ConvTiling
    private let api: OpenCLAPI

    /// Builds the three kernels for `tile` from `sources`; a build, a kernel or a work-group
    /// limit below the tile's is a ``TuningRejection``.
    init(_ tile: GemmTile, on backend: OpenCLBackend, programs: ProgramCache, sources: TuningSources) throws {
        var built: [cl_kernel] = []
        func make(_ family: KernelFamily, _ name: String, _ source: String) throws -> cl_kernel {
            let program = try programs.program(family: family.name, source: source, options: family.buildOptions(tile: tile))
            var code: cl_int = 0
            guard let kernel = backend.api.createKernel(program, name, &code), code == CL_SUCCESS else {
                throw TuningRejection(reason: "clCreateKernel(\(name)) failed with \(code)")
            }
            built.append(kernel)
            let items = tile.localSize[0] * tile.localSize[1]
            var allowed = 0
            if backend.api.getKernelWorkGroupInfo(kernel, backend.cl.id, cl_uint(CL_KERNEL_WORK_GROUP_SIZE),
                MemoryLayout<Int>.size, &allowed, nil) == CL_SUCCESS, allowed > 0, allowed < items {
                throw TuningRejection(reason: "\(name) needs \(items) work-items per group; its build allows \(allowed)")
            }
            return kernel
        }
        do {
            gemm = try make(.gemm, "gemm", sources.gemm)
            tiling = OpenCLBackend.ConvTiling(tile: tile, dense: try make(.conv, "conv2d_gemm", sources.conv),
                masked: try make(.conv, "masked_conv2d_gemm", sources.conv))
        } catch {
            for kernel in built { _ = backend.api.releaseKernel(kernel) }
            throw error
        }
        self.tile = tile
        api = backend.api
    }

    deinit {
        for kernel in [gemm, tiling.dense, tiling.masked] { _ = api.releaseKernel(kernel) }
    }
}

/// How the tuner times candidates: one unit for all of them, so their times compare.
enum TuningClock {
    /// The device's profiling timer (the kernels' own time).
    case device
    /// Wall time, where the device's profiling gives none.
    case wall

    /// The median of `runs` runs of `body` in µs, after one untimed run when `warmUp` (the
    /// first run pays for caches, page faults and lazy driver work).
    func median(of runs: Int, warmUp: Bool, on backend: OpenCLBackend, _ body: () throws -> Void) throws -> Double {
        if warmUp {
            try body()
            try backend.synchronize()
        }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = Date()
            try backend.startDeviceTimer()
            try body()
            let device = try backend.stopDeviceTimer()
            switch self {
            case .device:
                guard let device else { throw TuningRejection(reason: "the device's profiling timer gave no time") }
                times.append(device)
            case .wall:
                times.append(Date().timeIntervalSince(start) * 1e6)
            }
        }
        return times.sorted()[times.count / 2]
    }
}
