import Foundation

extension JSONEncoder {
    /// rdlab's files: snake_case keys, sorted, optionally indented.
    public static func rdlab(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
