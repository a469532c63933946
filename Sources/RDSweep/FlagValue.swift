import Foundation

/// The value of one `rdlab train` flag at a sweep point, as YAML gave it: a switch, an
/// integer, a number or a word. Written to `points.json` as the JSON scalar of the same kind.
public enum FlagValue: Hashable, Sendable, CustomStringConvertible {
    case on(Bool)
    case integer(Int)
    case number(Double)
    case text(String)

    /// The flag's argument on the command line (`nil` for a switch, which is its name alone).
    public var argument: String? {
        switch self {
        case .on: nil
        case let .integer(value): String(value)
        case let .number(value): value.shortDescription
        case let .text(value): value
        }
    }

    /// As a reader sees it in labels and tables.
    public var description: String {
        switch self {
        case let .on(value): value ? "on" : "off"
        default: argument ?? ""
        }
    }

    /// The value as a number, where it is one (plots and tables order points by it).
    public var number: Double? {
        switch self {
        case let .integer(value): Double(value)
        case let .number(value): value
        default: nil
        }
    }
}

extension FlagValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .on(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .on(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .text(value): try container.encode(value)
        }
    }
}

/// One flag of a point: `--target-rate 0.25`.
public struct FlagSetting: Codable, Hashable, Sendable {
    /// The long name without dashes (`target-rate`).
    public var flag: String
    public var value: FlagValue

    public init(flag: String, value: FlagValue) {
        self.flag = flag
        self.value = value
    }

    /// The words on the command line: `["--target-rate", "0.25"]`, `["--symmetric-inputs"]`, or
    /// nothing for a switch that is off.
    public var arguments: [String] {
        if case let .on(on) = value { return on ? ["--\(flag)"] : [] }
        return ["--\(flag)", value.argument ?? ""]
    }
}

extension Double {
    /// The shortest text that reads back as this number, without a trailing `.0` (`0.25`, `3`).
    var shortDescription: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return description
    }

    /// Rounded to six significant digits, so generated axes read `0.316228` rather than
    /// `0.31622776601683794`.
    var sixDigits: Double {
        Double(String(format: "%.6g", self)) ?? self
    }
}
