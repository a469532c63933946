import Foundation
import RDCompute
import RDParity

/// `rdlab selftest`'s table: the cases' results grouped by op, in ``Op`` order after the
/// buffer methods, each op's status being its worst case's.
struct SelftestReport {
    /// One op's cases.
    struct Row {
        let subject: String
        let results: [ParityResult]

        var status: ParityStatus { results.map(\.status).max() ?? .unsupported }

        /// The case whose NMSE is largest relative to its threshold.
        var worst: ParityResult? {
            results.filter { $0.nmse != nil }.max { ratio($0) < ratio($1) }
        }

        private func ratio(_ r: ParityResult) -> Double {
            let nmse = r.nmse ?? 0
            return r.threshold > 0 ? nmse / r.threshold : (nmse > 0 ? .infinity : 0)
        }
    }

    let rows: [Row]

    init(_ results: [ParityResult]) {
        let order = [ParityCase.buffersSubject] + Op.allCases.map(\.rawValue)
        let bySubject = Dictionary(grouping: results, by: \.parityCase.subject)
        rows = order.compactMap { subject in bySubject[subject].map { Row(subject: subject, results: $0) } }
    }

    var failed: Bool { rows.contains { $0.status == .fail } }

    /// `STATUS  op  N cases  worst NMSE x / threshold  [worst vs cpu y]`, then the first case that did not pass.
    var lines: [String] {
        rows.map { row in
            var line = "\(row.status.rawValue.padding(11))  \(row.subject.padding(26))  \(String(row.results.count).leftPadding(3)) cases"
            if let worst = row.worst, let nmse = worst.nmse {
                line += "  worst NMSE \(Self.format(nmse)) / \(Self.format(worst.threshold))"
            }
            if let cpu = row.results.compactMap(\.referenceBackendNMSE).max() { line += "  worst vs cpu \(Self.format(cpu))" }
            if let first = row.results.first(where: { $0.status != .pass }), let detail = first.detail {
                line += "\n             \(first.parityCase.name): \(detail)"
            }
            return line
        }
    }

    var summary: String {
        let count = { (status: ParityStatus) in self.rows.filter { $0.status == status }.count }
        let cases = rows.reduce(0) { $0 + $1.results.count }
        return "\(rows.count) ops, \(cases) cases: \(count(.pass)) PASS, \(count(.fail)) FAIL, \(count(.unsupported)) UNSUPPORTED"
    }

    private static func format(_ value: Double) -> String { value == 0 ? "0" : String(format: "%.1e", value) }
}

