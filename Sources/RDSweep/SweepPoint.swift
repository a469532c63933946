import Crypto
import Foundation
import RDCompute

/// The value an axis takes at a point, as a label (`target_rate = 0.25`).
public struct AxisChoice: Codable, Hashable, Sendable {
    public var axis: String
    public var value: String
}

/// One model of a sweep: its place in the plan, a stable id, the axis values that pick it and
/// the `rdlab train` flags that train it. Its run directory is `runs/<id>`.
public struct SweepPoint: Codable, Equatable, Sendable {
    /// The place in the expanded plan, from 0 (what `sweep run --task I` takes).
    public var index: Int
    /// The first 12 hex digits of SHA-256 over the point's flags: the same settings give the same
    /// id whatever the spec's order or the point's index.
    public var id: String
    public var axes: [AxisChoice]
    public var settings: [FlagSetting]

    public init(index: Int, axes: [AxisChoice], settings: [FlagSetting]) {
        self.index = index
        self.axes = axes
        self.settings = settings
        id = Self.id(of: settings)
    }

    /// SHA-256 over the flags' words in flag order, separated by U+001F, as 12 hex digits.
    /// Hashed word by word: a plan of thousands of points builds no joined string per point.
    static func id(of settings: [FlagSetting]) -> String {
        var hasher = SHA256()
        var first = true
        for setting in settings.sorted(by: { $0.flag < $1.flag }) {
            for word in setting.arguments {
                if !first { hasher.update(data: [0x1F]) }
                first = false
                var word = word
                word.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            }
        }
        return String(hasher.finalize().hex.prefix(12))
    }

    /// `rdlab train` arguments, without `--out`.
    public var arguments: [String] { settings.flatMap(\.arguments) }

    /// `target_rate=0.25 seed=2`.
    public var label: String {
        axes.isEmpty ? "(base)" : axes.map { "\($0.axis)=\($0.value)" }.joined(separator: " ")
    }

    /// The value of `flag` at this point, if it is set.
    public func value(of flag: String) -> FlagValue? {
        settings.last { $0.flag == flag }?.value
    }
}
