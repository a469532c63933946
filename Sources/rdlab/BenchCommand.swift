import ArgumentParser
import Foundation
import Logging
import RDCompute

/// `rdlab bench`: µs per call and GFLOP/s of the compute-bound ops on each chosen backend.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark GEMM, convolution and the VAE training step (µs/call, GFLOP/s) on one or more backends.",
        discussion: """
            Cases: SGEMM 1024³ and the im2col GEMMs of the reference conv VAE at batch 100, every \
            conv layer of that VAE (forward, backward-data, backward-filter), memory bandwidth, the KL between \
            two diagonal Gaussians (fused op and graph, and the same KL from elementwise graph ops), the AR(1)-prior \
            KL of the δ-VAE (fused ops and graph), Echo noise, \
            the MADE layers and PixelCNN convolutions (masked ones count unmasked FLOPs only, beside the same \
            passes as dense ops on pre-masked weights), and the training step of each model family. \
            Each case is warmed up, \
            then repeated until --budget seconds have passed (at least 3 runs). OpenCL runs are timed on the \
            device (the call's kernels summed from profiling events); CPU runs by the wall clock around \
            the call and a device synchronisation; the timing column says which. Reports the median and the p10–p90 \
            spread, GFLOP/s at the median, the share of --peak, the ratio to the first backend, and with \
            --compare the ratio to an earlier run's JSON.
            """)

    @Option(name: .long, parsing: .singleValue,
        help: ArgumentHelp("Backend to measure; repeat for several (auto | cpu | opencl[:DEVICE]).", valueName: "backend"))
    var backend: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only cases whose name matches this regular expression.", valueName: "regex"))
    var op: String?

    @Option(name: .long, help: "Seconds of timed runs per case.")
    var budget: Double = 1.0

    @Option(name: .long, help: "FP32 peak in GFLOP/s to compare against (baselines/peak.c: ~320 on this machine's 2 cores).")
    var peak: Double?

    @Option(name: .long, help: ArgumentHelp("Also write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(name: .long, help: ArgumentHelp(
        "A file from an earlier --json run: adds its median over this run's per case and backend (above 1×: faster now).",
        valueName: "file"))
    var compare: String?

    @Flag(name: .long, help: "List the names of the cases (those --op matches) and exit.")
    var list = false

    @Flag(name: .long, help: "Exit with an error instead of falling back to the CPU (env RDLAB_STRICT_BACKEND=1).")
    var strictBackend = false

    @Flag(name: .long, help: "Run the ops a backend lacks on the CPU even under --strict-backend (env RDLAB_ALLOW_OP_FALLBACK=1).")
    var allowOpFallback = false

    @Option(name: .long, help: ArgumentHelp(
        "Load a backend from this shared library (repeatable; env RDLAB_BACKEND_PLUGINS=PATH:PATH).", valueName: "path"))
    var backendPlugin: [String] = []

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard budget > 0, budget <= 3600 else { throw ValidationError("--budget \(budget): give seconds per case, more than 0 and at most 3600") }
        if let peak, !(peak > 0 && peak.isFinite) { throw ValidationError("--peak \(peak): give the FP32 peak in GFLOP/s, more than 0") }
        if let json {
            // Checked before measuring, so that a long run does not end in an unwritable path.
            let directory = URL(fileURLWithPath: json).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--json \(json): directory \(directory) does not exist; create it first")
            }
            guard FileManager.default.isWritableFile(atPath: directory) else {
                throw ValidationError("--json \(json): directory \(directory) is not writable")
            }
        }
    }

    func run() throws {
        let logger = logging.bootstrap()
        let filter = try op.map { pattern in
            do { return try Regex(pattern) } catch { throw ValidationError("--op: invalid regular expression '\(pattern)': \(error)") }
        }
        let cases = BenchCase.all.filter { c in filter.map { c.name.contains($0) } ?? true }
        guard !cases.isEmpty else { throw ValidationError("--op '\(op ?? "")' matches no case; cases: \(BenchCase.all.map(\.name).joined(separator: ", "))") }
        if list {
            for benchCase in cases { print(benchCase.name) }
            return
        }
        let baseline: BenchBaseline?
        do { baseline = try compare.map { try BenchBaseline(path: $0) } } catch let error as BenchBaselineError {
            throw ValidationError(error.message)  // before any backend is set up or case measured
        }
        var backends: [any Backend] = []
        var pluginOptions = BackendOptions()
        pluginOptions.strictBackend = strictBackend
        pluginOptions.backendPlugin = backendPlugin
        let registry = try pluginOptions.registry(logger: logger)
        for text in backend.isEmpty ? ["auto"] : backend {
            var options = pluginOptions
            options.backend = text
            options.allowOpFallback = allowOpFallback
            let chosen = try options.select(in: registry, logger: logger).backend
            // A fallback can land on a device already in the list: measuring it twice would
            // print a ratio of noise against itself.
            guard !backends.contains(where: { $0.device.selector == chosen.device.selector }) else {
                logger.warning("--backend \(text) gives \(chosen.device.selector), which is already measured; skipping it (name another device, e.g. opencl:0, or see rdlab devices)")
                continue
            }
            backends.append(chosen)
        }

        var results: [BenchResult] = []
        for backend in backends {
            print("\(backend.device.selector): \(backend.device.name), driver \(backend.device.driverVersion)")
        }
        if let baseline { print("baseline: \(baseline.path), commit \(baseline.commit), \(baseline.date)") }
        let nameWidth = cases.map(\.name.count).max()! + 2
        print("timing: device = summed kernel time from OpenCL profiling events; wall = host clock around the call and a device synchronisation")
        print("case".padding(nameWidth) + "backend".padding(14) + "median µs".leftPadding(12) + "p10–p90 µs".leftPadding(22)
            + "GFLOP/s".leftPadding(10) + (peak == nil ? "" : "% peak".leftPadding(8)) + "GB/s".leftPadding(8)
            + "ratio".leftPadding(8) + (baseline == nil ? "" : "vs baseline".leftPadding(13)) + "  timing")
        let total = cases.count * backends.count
        let started = Date()
        var done = 0
        for benchCase in cases {
            var first: Double?
            for backend in backends {
                let elapsed = Date().timeIntervalSince(started)
                let eta = done == 0 ? Double(total) * (budget + 0.2) : elapsed / Double(done) * Double(total - done)
                FileHandle.standardError.write(Data(String(format: "[%d/%d, ETA %.0f s] %@ on %@\n", done + 1, total, eta,
                    benchCase.name, backend.device.selector).utf8))
                var result = try benchCase.measure(on: backend, budget: budget)
                done += 1
                let ratio = first.map { $0 / result.medianMicroseconds } ?? 1
                if first == nil { first = result.medianMicroseconds }
                result.ratioToFirstBackend = ratio
                result.baselineMedianMicroseconds = baseline?.median(case: benchCase.name, backend: backend.device.selector)
                results.append(result)
                var line = benchCase.name.padding(nameWidth) + backend.device.selector.padding(14)
                line += String(format: "%.0f", result.medianMicroseconds).leftPadding(12)
                line += String(format: "%.0f–%.0f", result.p10Microseconds, result.p90Microseconds).leftPadding(22)
                line += (result.flops > 0 ? String(format: "%.1f", result.gflops) : "–").leftPadding(10)
                if let peak { line += (result.flops > 0 ? String(format: "%.0f%%", 100 * result.gflops / peak) : "–").leftPadding(8) }
                line += (result.bytes > 0 ? String(format: "%.1f", result.gbPerSecond) : "–").leftPadding(8)
                line += String(format: "%.2f×", ratio).leftPadding(8)
                if baseline != nil {
                    line += (result.baselineMedianMicroseconds.map { String(format: "%.2f×", $0 / result.medianMicroseconds) } ?? "–")
                        .leftPadding(13)
                }
                line += "  " + result.timing
                print(line)
            }
        }
        for case let backend as OpFallbackBackend in backends {
            print("\(backend.device.selector): ops run on \(backend.fallback.displayName), over every case and run:")
            for line in backend.transferSummary { print("  \(line)") }
        }
        if let json {
            try BenchResult.write(results, to: URL(fileURLWithPath: json), peak: peak)
            print("wrote \(json)")
        }
    }
}

extension String {
    func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
