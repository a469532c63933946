import Foundation

/// The medians of an earlier `rdlab bench --json` file, for `--compare`: each row of a new
/// run is matched by case name and backend selector.
struct BenchBaseline {
    let path: String
    let commit: String
    let date: String
    private let medians: [String: Double]

    /// Reads `path`; throws a message naming the file when it is missing or not a bench file.
    init(path: String) throws {
        struct Row: Decodable {
            let name: String
            let backend: String
            let medianMicroseconds: Double
        }
        struct Document: Decodable {
            let commit: String
            let date: String
            let results: [Row]
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchBaselineError(message: "--compare \(path): no such file; give a file written by rdlab bench --json")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw BenchBaselineError(message: "--compare \(path): not a file written by rdlab bench --json (\(Self.describe(error)))")
        }
        self.path = path
        commit = document.commit
        date = document.date
        medians = Dictionary(document.results.map { (Self.key($0.name, $0.backend), $0.medianMicroseconds) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The baseline's median µs for this case on this backend, nil when it has no such row.
    func median(case name: String, backend: String) -> Double? { medians[Self.key(name, backend)] }

    private static func key(_ name: String, _ backend: String) -> String { name + "\u{0}" + backend }

    /// What a decoding error found missing or wrong, and where, in a few words.
    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: return "no '\(key.stringValue)' field"
        case .dataCorrupted(let context)?: return context.debugDescription
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}

struct BenchBaselineError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
