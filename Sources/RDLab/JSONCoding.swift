import Foundation
import RDCompute

extension JSONEncoder {
    /// rdlab's files: snake_case keys, sorted, optionally indented.
    public static func rdlab(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}

extension JSONDecoder {
    /// rdlab's files: snake_case keys.
    public static var rdlab: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// A closed set of names read from files: decoding an unknown name fails with the names it
/// could have been (`'flow' is not one of gaussian, iaf`).
public protocol NamedChoice: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension NamedChoice {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "'\(text)' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

extension Activation: NamedChoice {}
extension EncoderKind: NamedChoice {}
extension DecoderKind: NamedChoice {}
extension MarginalKind: NamedChoice {}
extension ChannelKind: NamedChoice {}
extension ModelSpec.Kind: NamedChoice {}
extension TargetRate.Bound: NamedChoice {}
extension FreeBits.Grouping: NamedChoice {}
extension LearningRateSchedule.Kind: NamedChoice {}
extension EchoIndexTable.Sampling: NamedChoice {}
