import Foundation

/// Messages for files rdlab reads (run directories, checkpoints, sweeps, GEMM tuning records):
/// the field, in the files' snake_case, and what is wrong, instead of Foundation's dump.
extension DecodingError {
    /// The field (as a key path in the file) and what is wrong with it, in one line.
    public var plainDescription: String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the top level"
                : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue.snakeCased(separator: "_") }
                    .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch self {
        case let .keyNotFound(key, context):
            let parent = context.codingPath.isEmpty ? "" : path(context.codingPath) + "."
            return "field \(parent)\(key.stringValue.snakeCased(separator: "_")) is missing"
        case let .typeMismatch(type, context):
            return "field \(path(context.codingPath)) is not \(Self.article(type))"
        case let .valueNotFound(type, context):
            return "field \(path(context.codingPath)) is null, expected \(Self.article(type))"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON (\(context.debugDescription))"
                : "field \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }

    private static func article(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        default: "a \(type)"
        }
    }
}

extension String {
    /// `klAnnealSteps` → `kl_anneal_steps` (or `kl-anneal-steps`).
    public func snakeCased(separator: Character) -> String {
        var out = ""
        for character in self {
            if character.isUppercase {
                out.append(separator)
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
