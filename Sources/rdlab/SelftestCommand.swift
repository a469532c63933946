import ArgumentParser
import Foundation
import Logging
import RDBackends
import RDCompute
import RDParity

/// `rdlab selftest`: the parity suite's cases and the gradient tests' finite-difference checks,
/// compiled in, run on one backend.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check a backend against the Double references of the parity suite, one line per op.",
        discussion: """
            Runs the test suite's parity cases (the same tables: every op, odd shapes, strides, paddings) \
            on the backend of --backend and prints PASS, FAIL or UNSUPPORTED per op with its case count \
            and worst NMSE. PASS and FAIL are judged against the naive Double reference with the suite's \
            thresholds; for a backend other than the CPU, each case also runs on the CPU backend and the \
            NMSE against the CPU's output is shown beside it (reported, not judged). Then each backward \
            op (and gemm, whose backward is gemm with transposes) is checked against central finite \
            differences of its own forward on the same backend, with the gradient tests' steps and \
            tolerances: its line shows how many such checks ran ("grad checks") and the worst \
            |analytic - numeric| / max(1, |numeric|) over the checked coordinates against the tolerance. \
            An op's status is the worst of its parity and gradient cases. The selection is \
            always strict (--strict-backend is implied): a backend that is not there is an error, never a \
            test of the CPU. Ops the backend lacks are UNSUPPORTED, or with --allow-op-fallback run on \
            the CPU as a training run would. Exits 1 when any case FAILs. Kernel sources from \
            RDLAB_KERNEL_DIR are tested like the embedded ones.
            """)

    @OptionGroup var selection: BackendOptions

    @Option(name: .long, help: ArgumentHelp(
        "Run only the ops whose name matches this regular expression (an Op name such as gemm or conv2d.*; "
            + "'\(ParityCase.buffersSubject)' for upload, copy and fill).",
        valueName: "regex"))
    var op: String?

    @OptionGroup var logging: LoggingOptions

    @Flag(name: .long, help: "Print the per-op results as one JSON object instead of the table.")
    var json = false

    func validate() throws {
        if let op, (try? Regex(op)) == nil { throw ValidationError("--op '\(op)' is not a regular expression") }
        if cases().isEmpty && gradientCases().isEmpty { throw ValidationError("--op '\(op ?? "")' matches no op") }
    }

    func run() throws {
        let logger = logging.bootstrap()
        let backend = try selectedBackend(logger: logger)
        let reference = try cpuReference(unless: backend)
        let cases = cases()
        let started = Date()
        let results = ParityRunner.run(backend: backend, reference: reference, cases: cases)
        let gradients = GradientRunner.run(backend: backend, cases: gradientCases())
        let report = SelftestReport(results, gradients: gradients)
        let seconds = Date().timeIntervalSince(started)
        if json {
            print(try report.json(backend: backend.device.description, seconds: seconds))
        } else {
            print("selftest \(backend.device) against the Double reference" + (reference == nil ? "" : " and the CPU backend"))
            for line in report.lines { print(line) }
            print(report.summary + String(format: " in %.1f s", seconds))
        }
        if report.failed { throw ExitCode.failure }
    }

    /// The parity cases of the ops `--op` selects, all of them without it.
    private func cases() -> [ParityCase] { selected(ParityCase.all, by: \.subject) }

    /// The gradient cases of the backward ops `--op` selects, all of them without it.
    private func gradientCases() -> [GradientCase] { selected(GradientCase.all, by: \.op.rawValue) }

    /// The items whose `subject` matches `--op`; all of them without it.
    private func selected<Item>(_ items: [Item], by subject: (Item) -> String) -> [Item] {
        guard let op else { return items }
        guard let pattern = try? Regex(op) else { return [] }
        return items.filter { subject($0).contains(pattern) }
    }

    /// The requested backend, strictly (no stand-in CPU); its missing ops completed by the CPU
    /// only with `--allow-op-fallback`, else left to show as UNSUPPORTED.
    private func selectedBackend(logger: Logger) throws -> any Backend {
        let registry = try selection.registry(logger: logger)
        let request = try selection.request(in: registry)
        do {
            let chosen = try registry.select(request, strict: true, allowOpFallback: true, logger: logger).backend
            guard !selection.opFallbackAllowed, let completed = chosen as? OpFallbackBackend else { return chosen }
            return completed.primary
        } catch let error as ComputeError {
            throw CleanExit.failure("selftest: backend '\(request)' unusable: \(error)")
        }
    }

    /// A CPU backend from the registry's CPU factory to compare with; `nil` when `backend` is one.
    private func cpuReference(unless backend: any Backend) throws -> (any Backend)? {
        guard backend.device.backend != BackendRegistry.fallbackName,
            let factory = BackendRegistry.standard().factory(named: BackendRegistry.fallbackName),
            let device = try factory.devices().first
        else { return nil }
        return try factory.makeBackend(on: device)
    }
}
