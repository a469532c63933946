import RDCompute

/// The verdict of one parity case on one backend.
public enum ParityStatus: String, Sendable, Comparable {
    case pass = "PASS"
    /// The backend does not offer the op (``Backend/supports(_:)`` or ``ComputeError/unsupported(op:backend:reason:)``).
    case unsupported = "UNSUPPORTED"
    case fail = "FAIL"

    /// Worse is greater: an op's status is its cases' maximum, FAIL over PASS over UNSUPPORTED.
    public static func < (a: ParityStatus, b: ParityStatus) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .unsupported: 0
        case .pass: 1
        case .fail: 2
        }
    }
}

/// One case's outcome: its NMSE against the Double reference (what decides PASS and FAIL, with
/// the suite's threshold) and, when a reference backend ran it too, against that backend's output.
public struct ParityResult: Sendable {
    public let parityCase: ParityCase
    public let status: ParityStatus
    /// NMSE against ``Reference``'s Double result; `nil` when the case did not run.
    public let nmse: Double?
    /// NMSE against the reference backend's fp32 result; reported, not judged.
    public let referenceBackendNMSE: Double?
    /// Why the case failed or is unsupported: an error, a length mismatch, a non-finite value.
    public let detail: String?

    public var threshold: Double { parityCase.tolerance }
}

/// Runs parity cases on a backend: the engine of the parity suite and of `rdlab selftest`.
public enum ParityRunner {
    /// Runs `cases` on `backend`, each also on `reference` (the CPU backend) when given.
    public static func run(backend: any Backend, reference: (any Backend)? = nil,
        cases: [ParityCase] = ParityCase.all) -> [ParityResult] {
        cases.map { run($0, on: backend, reference: reference) }
    }

    /// Runs one case: PASS when the output has the reference's length, is finite and is within
    /// the case's NMSE threshold of the Double reference.
    public static func run(_ parityCase: ParityCase, on backend: any Backend, reference: (any Backend)? = nil) -> ParityResult {
        if let op = parityCase.op, !backend.supports(op) {
            return ParityResult(parityCase: parityCase, status: .unsupported, nmse: nil, referenceBackendNMSE: nil,
                detail: "\(backend.displayName) does not support \(op.rawValue)")
        }
        let outcome: (values: [Float], reference: [Double])
        do {
            outcome = try parityCase.run(backend)
        } catch ComputeError.unsupported(_, _, let reason) {
            return ParityResult(parityCase: parityCase, status: .unsupported, nmse: nil, referenceBackendNMSE: nil,
                detail: reason)
        } catch {
            return ParityResult(parityCase: parityCase, status: .fail, nmse: nil, referenceBackendNMSE: nil,
                detail: "threw \(error)")
        }
        let (values, expected) = outcome
        guard values.count == expected.count else {
            return ParityResult(parityCase: parityCase, status: .fail, nmse: nil, referenceBackendNMSE: nil,
                detail: "\(values.count) values, reference has \(expected.count)")
        }
        let measured = nmse(values, expected)
        let againstBackend = reference.flatMap { try? parityCase.run($0).values }
            .flatMap { $0.count == values.count ? nmse(values, $0.map(Double.init)) : nil }
        let detail: String? = if !values.allSatisfy(\.isFinite) {
            "non-finite output"
        } else if !(measured <= parityCase.tolerance) {
            "NMSE \(measured) > \(parityCase.tolerance)"
        } else {
            nil
        }
        return ParityResult(parityCase: parityCase, status: detail == nil ? .pass : .fail, nmse: measured,
            referenceBackendNMSE: againstBackend, detail: detail)
    }
}
