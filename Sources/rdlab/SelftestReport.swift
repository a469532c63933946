import Foundation
import RDCompute
import RDParity

/// `rdlab selftest`'s table: the parity and gradient results grouped by op, in ``Op`` order
/// after the buffer methods, each op's status being its worst case's, parity or gradient.
struct SelftestReport {
    /// One op's cases.
    struct Row {
        let subject: String
        let results: [ParityResult]
        /// Its finite-difference checks: empty for an op without a backward.
        let gradients: [GradientResult]

        var status: ParityStatus { (results.map(\.status) + gradients.map(\.status)).max() ?? .unsupported }

        /// The case whose NMSE is largest relative to its threshold.
        var worst: ParityResult? {
            results.filter { $0.nmse != nil }.max { ratio($0.nmse, $0.threshold) < ratio($1.nmse, $1.threshold) }
        }

        /// The gradient check whose worst relative error is largest relative to its tolerance.
        var worstGradient: GradientResult? {
            gradients.filter { $0.worstError != nil }
                .max { ratio($0.worstError, $0.tolerance) < ratio($1.worstError, $1.tolerance) }
        }

        /// The first case, parity before gradient, that did not pass: its name and why.
        var firstProblem: String? {
            if let r = results.first(where: { $0.status != .pass }) { return "\(r.parityCase.name): \(r.detail ?? r.status.rawValue)" }
            if let g = gradients.first(where: { $0.status != .pass }) {
                return "\(g.gradientCase.name): \(g.detail ?? g.status.rawValue)"
            }
            return nil
        }

        private func ratio(_ error: Double?, _ limit: Double) -> Double {
            let error = error ?? 0
            return limit > 0 ? error / limit : (error > 0 ? .infinity : 0)
        }
    }

    let rows: [Row]

    init(_ results: [ParityResult], gradients: [GradientResult] = []) {
        let order = [ParityCase.buffersSubject] + Op.allCases.map(\.rawValue)
        let bySubject = Dictionary(grouping: results, by: \.parityCase.subject)
        let gradientsBySubject = Dictionary(grouping: gradients, by: \.gradientCase.op.rawValue)
        rows = order.compactMap { subject in
            let results = bySubject[subject] ?? [], gradients = gradientsBySubject[subject] ?? []
            return results.isEmpty && gradients.isEmpty ? nil : Row(subject: subject, results: results, gradients: gradients)
        }
    }

    var failed: Bool { rows.contains { $0.status == .fail } }

    /// `STATUS  op  N cases  worst NMSE x / threshold  [G grad checks  worst error e / tolerance]  [worst vs cpu y]`,
    /// then the first case that did not pass.
    var lines: [String] {
        rows.map { row in
            var line = "\(row.status.rawValue.padding(11))  \(row.subject.padding(26))  \(String(row.results.count).leftPadding(3)) cases"
            var nmse = ""
            if let worst = row.worst, let value = worst.nmse {
                nmse = "worst NMSE \(Self.format(value)) / \(Self.format(worst.threshold))"
            }
            var gradient = ""
            if !row.gradients.isEmpty {
                gradient = "\(String(row.gradients.count).leftPadding(2)) grad checks"
                if let worst = row.worstGradient, let error = worst.worstError {
                    gradient += "  worst error \(Self.format(error)) / \(Self.format(worst.tolerance))"
                }
            }
            line += "  " + nmse.padding(29) + "  " + gradient.padding(45)
            if let cpu = row.results.compactMap(\.referenceBackendNMSE).max() { line += "  worst vs cpu \(Self.format(cpu))" }
            line = String(line.reversed().drop { $0 == " " }.reversed())
            if let problem = row.firstProblem { line += "\n             \(problem)" }
            return line
        }
    }

    var summary: String {
        let count = { (status: ParityStatus) in self.rows.filter { $0.status == status }.count }
        let cases = rows.reduce(0) { $0 + $1.results.count }, checks = rows.reduce(0) { $0 + $1.gradients.count }
        return "\(rows.count) ops, \(cases) cases, \(checks) gradient checks: \(count(.pass)) PASS, \(count(.fail)) FAIL, "
            + "\(count(.unsupported)) UNSUPPORTED"
    }

    private static func format(_ value: Double) -> String { value == 0 ? "0" : String(format: "%.1e", value) }
}
