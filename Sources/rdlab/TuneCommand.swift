import ArgumentParser
import Foundation
import RDBackendOpenCL
import RDCompute

/// `rdlab tune`: measure the OpenCL GEMM/conv tile of one device and store the fastest.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Find the fastest correct GEMM/conv tile of an OpenCL device and store it for later runs.",
        discussion: """
            CLBlast-style search: builds the GEMM and conv kernels for each tile (TS×TS outputs per work-group, \
            WPT results per work-item) that fits the device's work-group and local-memory limits, \
            checks each tile's results against a Double reference (GEMMs of odd shapes with transposes, \
            sampled rows of the timed GEMM, a small dense and a small masked convolution in all three passes) \
            (a tile that computes wrong numbers is rejected, never stored), and \
            times it on a size³ SGEMM and on the three passes of a VAE conv layer (one warm-up, then the median of 3 \
            device-timed runs each). The default tile of the \
            shipped table is measured first; the search stops starting tiles when --budget runs out \
            and keeps the best so far. The best is then timed again against the default, alternating, and replaces it \
            only when GEMM and conv together still run at least 3% faster. \
            The result is written as gemm-tile-<key>.json beside the kernel cache \
            (RDLAB_KERNEL_CACHE_DIR, default ~/.cache/rdlab/kernels), keyed by device, vendor, \
            driver and platform version: every later OpenCL backend on that device and driver uses \
            it for GEMMs and convolutions with the same kernel sources (the file records their digest), \
            unless RDLAB_GEMM_TILE overrides it; a new driver or changed kernels (another rdlab, RDLAB_KERNEL_DIR) \
            start again from the table. 'rdlab devices' shows which tile each device uses.
            """)

    @Option(name: .long, help: ArgumentHelp(
        "The OpenCL device to tune: opencl (the best GPU) or opencl:DEVICE, an index from 'rdlab devices' or part of its name (opencl:0, opencl:pocl).",
        valueName: "backend"))
    var backend: String

    @Option(name: .long, help: "Seconds of searching, counted after the inputs and references are made: no new tile starts after this; the default tile is always measured, and the final re-timing of the best against it comes after.")
    var budget: Double = 120

    @Option(name: .long, help: "m = n = k of the timed SGEMM (default 1024 on a GPU, 512 on a CPU device such as PoCL).")
    var size: Int?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard budget > 0, budget <= 86_400 else {
            throw ValidationError("--budget \(budget): give the seconds to search, more than 0 and at most 86400")
        }
        if let size, !(16...8192).contains(size) {
            throw ValidationError("--size \(size): give the GEMM's m = n = k, from 16 to 8192")
        }
    }

    func run() throws {
        let logger = logging.bootstrap()
        let factory = OpenCLBackendFactory(logger: logger)
        let request: BackendRequest
        do {
            request = try BackendRequest(parsing: backend, validNames: [factory.name])
        } catch {
            throw CleanExit.failure("--backend \(backend): rdlab tune tunes OpenCL kernels; give opencl or opencl:DEVICE (see rdlab devices)")
        }
        let device: DeviceDescription
        do {
            device = try BackendRegistry.choose(request.device, among: try factory.devices(), family: factory.name)
        } catch let error as ComputeError {
            throw CleanExit.failure("--backend \(backend): \(error)")
        }
        guard let backend = try factory.makeBackend(on: device) as? OpenCLBackend else {
            throw CleanExit.failure("--backend \(self.backend): \(device.selector) is not an OpenCL device")
        }
        if let override = factory.configuration.gemmTile {
            logger.warning("RDLAB_GEMM_TILE=\(override) is set: it overrides the tuned tile until it is unset")
        }
        let size = size ?? backend.defaultTuningSize
        let flops = 2 * pow(Double(size), 3)
        let layer = backend.tuningConvLayer
        print("tuning the GEMM/conv tile of \(device.selector) (\(device.name)), driver \(device.driverVersion)")
        print("timed: SGEMM \(size)³ and the conv layer \(layer) (forward, backward-data, backward-filter); budget \(Int(budget)) s")
        print("the table's default tile first, then every tile that fits the device; each checked against a Double reference")
        print("making the inputs and their Double references (before the budget starts)")
        let tuning = try backend.tuneGemm(size: size, budget: budget) { step in
            FileHandle.standardError.write(Data(String(format: "[%d/%d, ETA %.0f s] %@ %@\n", step.index, step.total,
                step.secondsLeft, step.result.tile.description, Self.describe(step.result.outcome, flops: flops)).utf8))
        }
        print("tile".padding(8) + "  result")
        for result in tuning.results { print(result.tile.description.padding(8) + "  " + Self.describe(result.outcome, flops: flops)) }
        if tuning.untried > 0 { print("\(tuning.untried) more tiles not tried within --budget \(Int(budget)) s; raise it to search them") }
        let record = tuning.record
        if tuning.retimed {
            print("\(record.defaultTile) and the search's best timed again, alternating, \(OpenCLBackend.confirmationRounds) rounds (3% faster needed to store the best):")
        }
        print(String(format: "default %@: GEMM %.2f ms (%.1f GFLOP/s), conv %.2f ms", record.defaultTile.description,
            record.defaultMicroseconds / 1000, flops / record.defaultMicroseconds / 1000, record.defaultConvMicroseconds / 1000))
        print(String(format: "best    %@: GEMM %.2f ms (%.1f GFLOP/s), conv %.2f ms; %.2f× the default", record.tile.description,
            record.bestMicroseconds / 1000, flops / record.bestMicroseconds / 1000, record.bestConvMicroseconds / 1000,
            record.speedup))
        print("stored \(tuning.file.path); OpenCL backends on \(device.selector) with driver \(device.driverVersion) now use \(record.tile)")
    }

    /// "gemm 12.34 ms 21.7 GFLOP/s, conv 3.21 ms" or "rejected: why".
    static func describe(_ outcome: GemmCandidateResult.Outcome, flops: Double) -> String {
        switch outcome {
        case .timed(let gemm, let conv):
            return String(format: "gemm %.2f ms %.1f GFLOP/s, conv %.2f ms", gemm / 1000, flops / gemm / 1000, conv / 1000)
        case .rejected(let reason):
            return "rejected: \(reason)"
        }
    }
}
