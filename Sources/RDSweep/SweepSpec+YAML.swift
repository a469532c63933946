import Foundation
import Yams

extension SweepSpec {
    /// The most values one generated axis (`log`, `linear`) may have.
    public static let maximumAxisPoints = 10_000
    /// The most different flags one spec may set, in `train` and the axes together: `rdlab train`
    /// has fewer, and a plan hashes every point's flags.
    public static let maximumFlags = 100

    /// Reads a spec; every error names `file`, the line and column, the key and the fix.
    public static func parse(yaml: String, file: String) throws -> SweepSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw SweepSpecError.invalid(file, "(top)", "the file is empty; it needs `train:` and `axes:`")
            }
            root = node
        } catch let error as SweepSpecError {
            throw error
        } catch {
            // libyaml's message quotes the offending line: keep the first lines, each short
            let lines = "\(error)".split(separator: "\n").prefix(3).map { $0.count > 160 ? $0.prefix(160) + "…" : $0 }
            throw SweepSpecError.invalid(file, "(top)", "not YAML: " + lines.joined(separator: "\n"))
        }
        let reader = YAMLReader(file: file)
        let top = try reader.mapping(root, at: "(top)")
        let known = ["name", "train", "axes", "combine", "evaluate"]
        for (key, node) in top where !known.contains(key) {
            throw reader.error(node, key, "unknown key; a spec has \(known.joined(separator: ", "))")
        }
        let name = try top.first { $0.key == "name" }.map { try reader.word($0.value, at: "name") }
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let train = try top.first { $0.key == "train" }.map { try reader.flags($0.value, at: "train") } ?? []
        guard let axesNode = top.first(where: { $0.key == "axes" })?.value else {
            throw SweepSpecError.invalid(file, "axes", "missing: give at least one axis, e.g. `axes: {beta: {log: [0.1, 10], points: 9}}`")
        }
        let axes = try reader.mapping(axesNode, at: "axes").map { key, node in try reader.axis(key, node) }
        guard !axes.isEmpty else { throw reader.error(axesNode, "axes", "give at least one axis") }
        var combination = Combination.product
        if let node = top.first(where: { $0.key == "combine" })?.value {
            let word = try reader.word(node, at: "combine")
            guard let chosen = Combination(rawValue: word) else {
                throw reader.error(node, "combine", "'\(word)' is not one of \(Combination.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            combination = chosen
        }
        if combination == .zip, let first = axes.first, let other = axes.first(where: { $0.values.count != first.values.count }) {
            throw SweepSpecError.invalid(file, "axes",
                "combine: zip needs axes of one length; \(first.name) has \(first.values.count) values, \(other.name) \(other.values.count)")
        }
        var setBy: [String: String] = Dictionary(train.map { ($0.flag, "train") }, uniquingKeysWith: { a, _ in a })
        for axis in axes {
            for flag in Set(axis.values.flatMap { $0.settings.map(\.flag) }) {
                if let other = setBy.updateValue("axes.\(axis.name)", forKey: flag) {
                    throw SweepSpecError.invalid(file, "axes.\(axis.name)", "sets --\(flag), which \(other) sets too; set it in one place")
                }
            }
        }
        guard setBy.count <= maximumFlags else {
            throw SweepSpecError.invalid(file, "(top)", "sets \(setBy.count) different flags, more than \(maximumFlags); `rdlab train --help` lists the flags a point can set")
        }
        let count = axes.reduce(1.0) { $0 * Double(combination == .product ? $1.values.count : 1) }
            * Double(combination == .zip ? axes[0].values.count : 1)
        guard count <= Double(maximumPoints) else {
            throw SweepSpecError.invalid(file, "axes", "expands to \(Int(count)) points, more than \(maximumPoints); split the sweep")
        }
        let evaluation = try top.first { $0.key == "evaluate" }.flatMap { try reader.evaluation($0.value) }
        return SweepSpec(name: name, train: train, axes: axes, combination: combination, evaluation: evaluation)
    }
}

/// Walks the composed YAML, keeping marks for messages.
private struct YAMLReader {
    let file: String

    func error(_ node: Node, _ path: String, _ message: String) -> SweepSpecError {
        .invalid(node.mark.map { "\(file):\($0.line):\($0.column)" } ?? file, path, message)
    }

    /// The pairs of a mapping, keys as text, in the file's order; a repeated key is refused.
    func mapping(_ node: Node, at path: String) throws -> [(key: String, value: Node)] {
        guard let mapping = node.mapping else { throw error(node, path, "expected a mapping (key: value lines)") }
        var seen = Set<String>()
        return try mapping.map { key, value in
            guard let name = key.scalar?.string, !name.isEmpty else { throw error(key, path, "keys must be words") }
            guard seen.insert(name).inserted else { throw error(key, "\(path).\(name)", "given twice") }
            return (name, value)
        }
    }

    func word(_ node: Node, at path: String) throws -> String {
        guard let text = node.scalar?.string, !text.isEmpty else { throw error(node, path, "expected a word") }
        return text
    }

    func number(_ node: Node, at path: String) throws -> Double {
        guard let value = try? scalar(node, at: path).number, value.isFinite else {
            throw error(node, path, "expected a finite number")
        }
        return value
    }

    /// A scalar as YAML types it: quoted text stays text; plain `true`, `3`, `0.5` are a switch,
    /// an integer and a number.
    func scalar(_ node: Node, at path: String) throws -> FlagValue {
        guard let scalar = node.scalar else { throw error(node, path, "expected a single value, not a list or mapping") }
        if scalar.style != .plain { return .text(scalar.string) }
        let tag = Tag.Name(rawValue: node.tag.rawValue)
        if tag == .null { throw error(node, path, "has no value") }
        if let value = node.bool, tag == .bool { return .on(value) }
        if let value = node.int, tag == .int { return .integer(value) }
        if let value = node.float, tag == .float {
            guard value.isFinite else { throw error(node, path, "must be finite") }
            return .number(value)
        }
        return .text(scalar.string)
    }

    /// `evaluate: {iwae: K, probes: true}`, either key or both; `nil` when it asks for nothing
    /// (`{probes: false}`).
    func evaluation(_ node: Node) throws -> SweepSpec.Evaluation? {
        let parts = try mapping(node, at: "evaluate")
        let known = ["iwae", "probes"]
        for (key, value) in parts where !known.contains(key) {
            throw error(value, "evaluate.\(key)", "unknown key; evaluate has iwae (importance samples K) and probes (true: HIT's PSNR and probe accuracies)")
        }
        guard !parts.isEmpty else { throw error(node, "evaluate", "give iwae, probes or both, e.g. {iwae: 5} or {probes: true}") }
        var evaluation = SweepSpec.Evaluation()
        if let samples = parts.first(where: { $0.key == "iwae" })?.value {
            guard case .integer(let k) = try scalar(samples, at: "evaluate.iwae"), (1...65535).contains(k) else {
                throw error(samples, "evaluate.iwae", "expected a whole number from 1 to 65535")
            }
            evaluation.iwae = k
        }
        if let probes = parts.first(where: { $0.key == "probes" })?.value {
            guard case .on(let on) = try scalar(probes, at: "evaluate.probes") else {
                throw error(probes, "evaluate.probes", "expected true or false")
            }
            evaluation.probes = on
        }
        return evaluation.iwae == nil && !evaluation.probes ? nil : evaluation
    }

    /// A flag name: `target_rate`, `target-rate` or `--target-rate` all mean `target-rate`.
    func flag(_ name: String, node: Node, at path: String) throws -> String {
        var flag = name.replacingOccurrences(of: "_", with: "-")
        while flag.hasPrefix("-") { flag.removeFirst() }
        guard !flag.isEmpty, flag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw error(node, path, "'\(name)' is not a flag name")
        }
        guard !SweepSpec.reservedFlags.contains(flag) else {
            throw error(node, path, "--\(flag) is set by the sweep for each point; remove it")
        }
        return flag
    }

    /// `flag: value` pairs.
    func flags(_ node: Node, at path: String) throws -> [FlagSetting] {
        try mapping(node, at: path).map { key, value in
            FlagSetting(flag: try flag(key, node: value, at: "\(path).\(key)"), value: try scalar(value, at: "\(path).\(key)"))
        }
    }

    /// `name: [values]`, `name: {log: [a, b], points: n}`, `name: {linear: [a, b], points: n}`,
    /// or a list of mappings of flags.
    func axis(_ name: String, _ node: Node) throws -> SweepAxis {
        let path = "axes.\(name)"
        if let list = node.sequence {
            guard !list.isEmpty else { throw error(node, path, "give at least one value") }
            let values = try list.enumerated().map { i, item in
                if item.mapping != nil {
                    let settings = try flags(item, at: "\(path)[\(i)]")
                    guard !settings.isEmpty else { throw error(item, "\(path)[\(i)]", "an empty mapping sets nothing") }
                    return AxisValue(label: settings.map { "\($0.flag)=\($0.value)" }.joined(separator: ","), settings: settings)
                }
                let value = try scalar(item, at: "\(path)[\(i)]")
                return AxisValue(label: value.description, settings: [FlagSetting(flag: try flag(name, node: node, at: path), value: value)])
            }
            return SweepAxis(name: name, values: values)
        }
        let parts = try mapping(node, at: path)
        let kinds = ["log", "linear"]
        guard let range = parts.first(where: { kinds.contains($0.key) }) else {
            throw error(node, path, "expected a list of values, {log: [low, high], points: n} or {linear: [low, high], points: n}")
        }
        for (key, value) in parts where key != range.key && key != "points" {
            throw error(value, "\(path).\(key)", "unknown key; a \(range.key) axis has \(range.key) and points")
        }
        guard let ends = range.value.sequence, ends.count == 2 else {
            throw error(range.value, "\(path).\(range.key)", "expected two numbers [low, high]")
        }
        let low = try number(ends[0], at: "\(path).\(range.key)[0]"), high = try number(ends[1], at: "\(path).\(range.key)[1]")
        guard let countNode = parts.first(where: { $0.key == "points" })?.value else {
            throw error(node, "\(path).points", "missing: how many values between \(low) and \(high)")
        }
        guard case .integer(let count) = try scalar(countNode, at: "\(path).points"), (1...SweepSpec.maximumAxisPoints).contains(count) else {
            throw error(countNode, "\(path).points", "expected a whole number from 1 to \(SweepSpec.maximumAxisPoints)")
        }
        guard count > 1 || low == high else {
            throw error(countNode, "\(path).points", "one point cannot span \(low) to \(high); give at least 2")
        }
        let values: [Double]
        if range.key == "log" {
            guard low > 0, high > 0 else { throw error(range.value, "\(path).log", "log spacing needs positive ends (got \(low), \(high))") }
            values = (0..<count).map { i in
                count == 1 ? low : exp(log(low) + (log(high) - log(low)) * Double(i) / Double(count - 1))
            }
        } else {
            values = (0..<count).map { i in count == 1 ? low : low + (high - low) * Double(i) / Double(count - 1) }
        }
        let flagName = try flag(name, node: node, at: path)
        return SweepAxis(name: name, values: values.map { value in
            let rounded = FlagValue.number(value.sixDigits)
            return AxisValue(label: rounded.description, settings: [FlagSetting(flag: flagName, value: rounded)])
        })
    }
}
