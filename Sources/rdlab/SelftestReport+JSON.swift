import Foundation
import RDParity

/// `rdlab selftest --json`: the table's rows as data.
extension SelftestReport {
    /// One op: its status, case counts and worst NMSEs (absent where no case ran).
    struct JSONRow: Encodable {
        let op: String
        let status: String
        let cases: Int
        let failed: Int
        let unsupported: Int
        let worstNMSE: Double?
        let threshold: Double?
        let worstVsCPU: Double?
        let firstProblem: String?
    }

    struct JSONReport: Encodable {
        let backend: String
        let seconds: Double
        let failed: Bool
        let ops: [JSONRow]
    }

    /// The report as one JSON object, keys sorted.
    func json(backend: String, seconds: Double) throws -> String {
        let ops = rows.map { row in
            let problem = row.results.first { $0.status != .pass }
            return JSONRow(op: row.subject, status: row.status.rawValue, cases: row.results.count,
                failed: row.results.filter { $0.status == .fail }.count,
                unsupported: row.results.filter { $0.status == .unsupported }.count,
                worstNMSE: row.worst?.nmse, threshold: row.worst?.threshold,
                worstVsCPU: row.results.compactMap(\.referenceBackendNMSE).max(),
                firstProblem: problem.map { "\($0.parityCase.name): \($0.detail ?? $0.status.rawValue)" })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(JSONReport(backend: backend, seconds: seconds, failed: failed, ops: ops)),
            as: UTF8.self)
    }
}
