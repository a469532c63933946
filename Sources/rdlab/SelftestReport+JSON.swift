import Foundation
import RDParity

/// `rdlab selftest --json`: the table's rows as data.
extension SelftestReport {
    /// One op: its status (the worst of its parity and gradient cases), case counts and worst
    /// errors (absent where no case ran).
    struct JSONRow: Encodable {
        let op: String
        let status: String
        /// Parity cases: how many, how many FAILed, how many were UNSUPPORTED.
        let cases: Int
        let failed: Int
        let unsupported: Int
        /// The largest NMSE against the Double reference relative to its threshold, and that threshold.
        let worstNMSE: Double?
        let threshold: Double?
        let worstVsCPU: Double?
        /// Finite-difference checks of the op's backward (0 for an op without one): how many,
        /// how many FAILed, how many were UNSUPPORTED, and how many coordinates they checked.
        let gradientChecks: Int
        let gradientFailed: Int
        let gradientUnsupported: Int
        let gradientCoordinates: Int
        /// The worst check's largest |analytic − numeric| / max(1, |numeric|) over its coordinates
        /// (worst relative to its tolerance; "inf" for a non-finite gradient), and that tolerance.
        let worstGradientError: Double?
        let gradientTolerance: Double?
        /// The first case, parity before gradient, that did not pass, and why.
        let firstProblem: String?
    }

    struct JSONReport: Encodable {
        let backend: String
        let seconds: Double
        let failed: Bool
        let ops: [JSONRow]
    }

    /// The report as one JSON object, keys sorted; infinite and NaN errors as "inf" and "nan".
    func json(backend: String, seconds: Double) throws -> String {
        let ops = rows.map { row in
            JSONRow(op: row.subject, status: row.status.rawValue, cases: row.results.count,
                failed: row.results.filter { $0.status == .fail }.count,
                unsupported: row.results.filter { $0.status == .unsupported }.count,
                worstNMSE: row.worst?.nmse, threshold: row.worst?.threshold,
                worstVsCPU: row.results.compactMap(\.referenceBackendNMSE).max(),
                gradientChecks: row.gradients.count, gradientFailed: row.gradients.filter { $0.status == .fail }.count,
                gradientUnsupported: row.gradients.filter { $0.status == .unsupported }.count,
                gradientCoordinates: row.gradients.reduce(0) { $0 + $1.probes },
                worstGradientError: row.worstGradient?.worstError, gradientTolerance: row.worstGradient?.tolerance,
                firstProblem: row.firstProblem)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(JSONReport(backend: backend, seconds: seconds, failed: failed, ops: ops)),
            as: UTF8.self)
    }
}
