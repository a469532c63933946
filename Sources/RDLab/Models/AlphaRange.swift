import Foundation

/// A range of AR(1) coefficients `lower:upper` with |α| ≤ ``largest`` and lower ≤ upper, spread linearly
/// over the latent dimensions (``prior(dimensions:)``); a single value `0.7` stands for
/// `0.7:0.7`, every dimension alike. The text form of the CLI's `--alpha 0.5:0.95`.
public struct AlphaRange: Equatable, Sendable, CustomStringConvertible {
    public let lower: Double
    public let upper: Double

    /// Why a range is not one.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The largest |α|: 1 − α² stays positive and well above Float's rounding (an α that rounds
    /// to 1 in Float would divide the KL by zero on the device).
    public static let largest = 0.999_999

    /// Throws unless |`lower`|, |`upper`| ≤ ``largest`` and `lower` ≤ `upper`.
    public init(lower: Double, upper: Double) throws(Invalid) {
        for (end, value) in [("lower", lower), ("upper", upper)] where !(abs(value) <= Self.largest) {
            throw Invalid(description: "α's \(end) end \(value) must lie strictly between −1 and 1, at most \(Self.largest) "
                + "in size (the prior's innovation variance 1 − α² must be positive)")
        }
        guard lower <= upper else {
            throw Invalid(description: "α's lower end \(lower) is above its upper end \(upper); write lower:upper")
        }
        (self.lower, self.upper) = (lower, upper)
    }

    /// Parses `lower:upper` or a single α.
    public init(parsing text: String) throws(Invalid) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), values.count == parts.count else {
            throw Invalid(description: "'\(text)' is not an α or a range lower:upper of α's (e.g. 0.7 or 0.5:0.95)")
        }
        try self.init(lower: values[0], upper: values[values.count - 1])
    }

    /// `lower:upper`, or the single α where they are equal.
    public var description: String { lower == upper ? "\(lower)" : "\(lower):\(upper)" }

    /// The prior with `dimensions` α's linearly spaced from ``lower`` to ``upper``.
    public func prior(dimensions: Int) -> AR1Prior {
        .linearlySpaced(from: lower, to: upper, count: dimensions)
    }
}
