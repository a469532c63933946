import RDCompute

/// One gradient case's outcome on one backend.
public struct GradientResult: Sendable {
    public let gradientCase: GradientCase
    public let status: ParityStatus
    /// How many coordinates were checked; 0 when the case did not run.
    public let probes: Int
    /// The largest |analytic − numeric| / max(1, |numeric|) over the checked coordinates
    /// (infinity for a non-finite one); `nil` when the case did not run.
    public let worstError: Double?
    /// Why the case failed or is unsupported: an error, the worst coordinate, a masked weight not 0.
    public let detail: String?

    public var tolerance: Double { gradientCase.tolerance }
}

/// Runs gradient cases on a backend: the engine of the gradient tests and of `rdlab selftest`.
public enum GradientRunner {
    public static func run(backend: any Backend, cases: [GradientCase] = GradientCase.all) -> [GradientResult] {
        cases.map { run($0, on: backend) }
    }

    /// Runs one case: PASS when every checked coordinate passes (``GradientProbe/passes(_:)``)
    /// with the case's tolerance; UNSUPPORTED when the backend lacks the backward or its forward.
    public static func run(_ gradientCase: GradientCase, on backend: any Backend) -> GradientResult {
        if let missing = gradientCase.requires.first(where: { !backend.supports($0) }) {
            return GradientResult(gradientCase: gradientCase, status: .unsupported, probes: 0, worstError: nil,
                detail: "\(backend.displayName) does not support \(missing.rawValue)")
        }
        let probes: [GradientProbe]
        do {
            probes = try gradientCase.run(backend, gradientCase.step)
        } catch ComputeError.unsupported(_, _, let reason) {
            return GradientResult(gradientCase: gradientCase, status: .unsupported, probes: 0, worstError: nil, detail: reason)
        } catch {
            return GradientResult(gradientCase: gradientCase, status: .fail, probes: 0, worstError: nil, detail: "threw \(error)")
        }
        let error = { (p: GradientProbe) -> Double in p.relativeError.isNaN ? .infinity : p.relativeError }
        let worst = probes.max { error($0) < error($1) }
        let failing = probes.filter { !$0.passes(gradientCase.tolerance) }
        let detail: String? = probes.isEmpty ? "no coordinate checked" : failing.max { error($0) < error($1) }.map { p in
            "\(failing.count) of \(probes.count) coordinates off, worst \(p.coordinate): analytic \(p.analytic), numeric \(p.numeric)"
                + (p.structuralZero ? " (masked: both must be 0)" : "")
        }
        return GradientResult(gradientCase: gradientCase, status: detail == nil ? .pass : .fail, probes: probes.count,
            worstError: worst.map(error), detail: detail)
    }
}
