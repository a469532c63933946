import Foundation
import GRDB
import RDCompute
import RDFiles

/// Flat tables for pandas: one file per table of the store, `SWEEP/export/<table>.csv` or
/// `.jsonl`. CSV is RFC 4180 (a header row; fields with a comma, quote or newline quoted);
/// a missing value is an empty field in CSV and `null` in JSON lines.
public enum ResultsExport {
    public enum Format: String, CaseIterable, Sendable {
        case csv, jsonl
    }

    /// Writes every table; returns the files written.
    public static func write(_ store: ResultsStore, format: Format, to folder: URL) throws -> [URL] {
        try ResultsTable.allCases.map { table in
            let (columns, rows) = try store.rows(of: table)
            let file = folder.appendingPathComponent("\(table.rawValue).\(format.rawValue)")
            let text: String
            switch format {
            case .csv:
                text = ([columns.map(csvField)] + rows.map { $0.map { csvField(plain($0)) } })
                    .map { $0.joined(separator: ",") + "\n" }.joined()
            case .jsonl:
                text = rows.map { row in
                    "{" + zip(columns, row).map { "\(jsonString($0)):\(jsonValue($1))" }.joined(separator: ",") + "}\n"
                }.joined()
            }
            try AtomicFile.write(Data(text.utf8), to: file)
            return file
        }
    }

    static func plain(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: ""
        case .int64(let v): String(v)
        case .double(let v): v.description
        case .string(let v): v
        case .blob(let v): v.base64EncodedString()
        }
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func jsonValue(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "null"
        case .int64(let v): String(v)
        case .double(let v): v.isFinite ? v.description : "null"
        case .string(let v): jsonString(v)
        case .blob(let v): jsonString(v.base64EncodedString())
        }
    }

    static func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
