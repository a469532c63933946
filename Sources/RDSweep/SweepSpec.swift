import Foundation
import RDCompute
import Yams

/// What a sweep trains: `rdlab train` settings shared by every point, and axes whose values
/// combine into points.
///
/// ```yaml
/// name: toy-target-rate
/// train:                    # rdlab train flags, by long name (target_rate or target-rate)
///   model: toy
///   epochs: 20
/// axes:                     # in order; the first varies slowest
///   target_rate: {linear: [0, 3], points: 13}
///   beta: {log: [0.1, 10], points: 9}
///   seed: [1, 2, 3]
///   family:                 # an axis whose values set several flags
///     - {encoder: gaussian, decoder: deconv}
///     - {encoder: iaf, decoder: pixelcnn}
/// combine: product          # product (default): every combination; zip: the i-th value of each
/// evaluate: {iwae: 5}       # after training: `rdlab eval --iwae 5` (the IWAE bound in the store);
///                           # {probes: true}: `--probes` (HIT's PSNR and probe accuracies), or both
/// ```
public struct SweepSpec: Equatable, Sendable {
    public enum Combination: String, Codable, CaseIterable, Sendable {
        case product, zip
    }

    /// What the runner evaluates after a point's training (`rdlab eval --json` with these flags).
    public struct Evaluation: Codable, Equatable, Sendable {
        /// Importance samples K of the IWAE bound, or `nil` for none.
        public var iwae: Int?
        /// HIT's PSNR and per-layer probe accuracies (`--probes`: hierarchical models, labelled data).
        public var probes: Bool

        public init(iwae: Int? = nil, probes: Bool = false) {
            self.iwae = iwae
            self.probes = probes
        }

        enum CodingKeys: String, CodingKey { case iwae, probes }

        /// A plan written before `probes` existed has only `iwae`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iwae = try container.decodeIfPresent(Int.self, forKey: .iwae)
            probes = try container.decodeIfPresent(Bool.self, forKey: .probes) ?? false
        }

        /// The flags of `rdlab eval` that compute it: `--iwae K`, `--probes`.
        public var arguments: [String] {
            (iwae.map { ["--iwae", String($0)] } ?? []) + (probes ? ["--probes"] : [])
        }
    }

    public var name: String
    public var train: [FlagSetting]
    public var axes: [SweepAxis]
    public var combination: Combination
    public var evaluation: Evaluation?

    public init(name: String, train: [FlagSetting], axes: [SweepAxis], combination: Combination = .product, evaluation: Evaluation? = nil) {
        self.name = name
        self.train = train
        self.axes = axes
        self.combination = combination
        self.evaluation = evaluation
    }

    /// Flags a sweep sets itself, per point.
    public static let reservedFlags: Set<String> = ["out", "resume", "help", "version"]
    /// The most points one spec may expand to: ten times Slurm's default largest job array, and
    /// few enough that planning one stays well under a second.
    public static let maximumPoints = 10_000

    /// The points: for `product` every combination of the axes' values (the first axis varies
    /// slowest), for `zip` the i-th value of every axis. Ids depend only on a point's flags.
    public func points() throws -> [SweepPoint] {
        // in Double, so that a product of many axes cannot overflow before it is refused
        let count = switch combination {
        case .product: axes.reduce(1.0) { $0 * Double($1.values.count) }
        case .zip: Double(axes.first?.values.count ?? 1)
        }
        guard count <= Double(Self.maximumPoints) else {
            throw SweepSpecError.invalid(nil, "axes", "expands to \(count) points, more than \(Self.maximumPoints); split the sweep")
        }
        var points: [SweepPoint] = []
        points.reserveCapacity(Int(count))
        var seen: [String: Int] = [:]
        for index in 0..<Int(count) {
            let choice = values(at: index)
            let point = SweepPoint(index: index, axes: zip(axes, choice).map { AxisChoice(axis: $0.name, value: $1.label) },
                settings: train + choice.flatMap(\.settings))
            if let earlier = seen.updateValue(index, forKey: point.id) {
                throw SweepSpecError.invalid(nil, "axes", "points \(earlier) and \(index) have the same settings (\(point.label))")
            }
            points.append(point)
        }
        return points
    }

    /// Each axis's value at point `index`: its digits in the mixed radix of the axes' lengths
    /// (the last axis varies fastest) for `product`, the `index`-th values for `zip`.
    private func values(at index: Int) -> [AxisValue] {
        switch combination {
        case .zip:
            return axes.map { $0.values[index] }
        case .product:
            var rest = index
            var chosen = [AxisValue]()
            chosen.reserveCapacity(axes.count)
            for axis in axes.reversed() {
                chosen.append(axis.values[rest % axis.values.count])
                rest /= axis.values.count
            }
            return chosen.reversed()
        }
    }
}

/// One axis: a name (a flag, or a label for values that set several flags) and its values.
public struct SweepAxis: Equatable, Sendable {
    public var name: String
    public var values: [AxisValue]

    public init(name: String, values: [AxisValue]) {
        self.name = name
        self.values = values
    }
}

/// One value of an axis: what a reader sees, and the flags it sets.
public struct AxisValue: Equatable, Sendable {
    public var label: String
    public var settings: [FlagSetting]

    public init(label: String, settings: [FlagSetting]) {
        self.label = label
        self.settings = settings
    }
}

/// The spec is not a sweep rdlab can run; the message names the file, the place and the fix.
public enum SweepSpecError: ReportableError, Equatable {
    /// File (if known), the path of the key in the spec (`axes.beta.log`), and what is wrong.
    case invalid(String?, String, String)

    public var description: String {
        switch self {
        case let .invalid(file, path, message): "\(file.map { "\($0): " } ?? "")\(path): \(message)"
        }
    }
}
