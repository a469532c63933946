import CZlib
import Foundation
import RDCompute
import RDFiles

/// Sums over the training batches of the epoch in progress, so that a run stopped mid-epoch
/// and resumed reports the same train metrics as one that was not.
public struct EpochTotals: Equatable, Sendable {
    public var rate: Double = 0
    public var distortion: Double = 0
    public var examples = 0
    public var seconds: Double = 0
    /// Sums of each latent layer's rate (empty before the first step; in older files, the one
    /// layer's sum is `rate`).
    public var layerRates: [Double] = []
    /// Sum of the rate under the model's auxiliary prior, where it has one.
    public var auxiliaryRate: Double?
    /// The smallest batch rate of the epoch's steps so far (nil before the first).
    public var minimumRate: Double?

    public init(rate: Double = 0, distortion: Double = 0, examples: Int = 0, seconds: Double = 0, layerRates: [Double] = [],
        auxiliaryRate: Double? = nil, minimumRate: Double? = nil) {
        self.rate = rate
        self.distortion = distortion
        self.examples = examples
        self.seconds = seconds
        self.layerRates = layerRates
        self.auxiliaryRate = auxiliaryRate
        self.minimumRate = minimumRate
    }
}

/// Everything a run needs to continue: parameters, Adam's moments and step, the training step
/// and epoch, how many metrics lines the state covers, the totals of the epoch in progress,
/// the objective's state (λ) and the model specification — one safetensors file, written
/// atomically. It knows models only through ``RateDistortionModel``.
///
/// Names: parameters under their own names (`encoder.conv1.weight`), moments under
/// `adam.m.<name>` and `adam.v.<name>`; counters and the configuration in the metadata, with a
/// format version and a CRC-32 of the content (every name, shape, value and metadata entry),
/// checked on load. A state with a NaN or infinity is never written.
public struct Checkpoint {
    public var step: Int
    /// The epoch in progress (0-based); after an epoch is committed, the next one.
    public var epoch: Int
    /// Lines of `metrics.jsonl` this state covers (see ``RunDirectory/keepMetrics(lines:)``).
    public var metricsLines: Int
    /// Totals of the training batches of `epoch` done so far.
    public var epochTotals: EpochTotals
    /// Adam's step count (its bias correction), as saved.
    public var adamStep: Int
    public var model: ModelSpec
    /// The objective's multipliers (absent in files written before issue 16: empty).
    public var objective: ObjectiveState
    public var metadata: [String: String]

    /// The format this version writes; version 1 (before metrics_lines and the checksum) still loads.
    public static let format = "rdlab-checkpoint-2"
    static let legacyFormat = "rdlab-checkpoint-1"
    static let checksumKey = "content_crc32"

    public init(step: Int, epoch: Int, metricsLines: Int = 0, epochTotals: EpochTotals = EpochTotals(), adamStep: Int? = nil,
        model: ModelSpec, objective: ObjectiveState = ObjectiveState(), metadata: [String: String] = [:]) {
        self.step = step
        self.epoch = epoch
        self.metricsLines = metricsLines
        self.epochTotals = epochTotals
        self.adamStep = adamStep ?? step
        self.model = model
        self.objective = objective
        self.metadata = metadata
    }

    /// Writes the model and optimiser state with the counters; refuses (``CheckpointError/notSaved(_:_:)``)
    /// a state with a non-finite value, leaving the file on disk as it was.
    public func save(model: any RateDistortionModel, optimizer: Adam, to url: URL) throws {
        var tensors: [String: SafeTensors.Entry] = [:]
        for parameter in model.parameters {
            tensors[parameter.name] = SafeTensors.Entry(shape: parameter.tensor.shape,
                values: try model.backend.download(parameter.tensor.buffer))
        }
        let moments = try optimizer.momentValues()
        for parameter in model.parameters {
            // A parameter that has had no gradient yet has Adam's initial moments: zeros.
            let zeros = [Float](repeating: 0, count: parameter.tensor.count)
            let moment = moments[parameter.name] ?? (zeros, zeros)
            tensors["adam.m.\(parameter.name)"] = SafeTensors.Entry(shape: [moment.first.count], values: moment.first)
            tensors["adam.v.\(parameter.name)"] = SafeTensors.Entry(shape: [moment.second.count], values: moment.second)
        }
        if let name = tensors.keys.sorted().first(where: { !tensors[$0]!.values.allSatisfy(\.isFinite) }) {
            throw CheckpointError.notSaved(url.path, "\(name) holds NaN or infinite values; the checkpoint on disk is the last good state")
        }
        var meta = metadata
        meta["format"] = Self.format
        meta["step"] = "\(step)"
        meta["epoch"] = "\(epoch)"
        meta["metrics_lines"] = "\(metricsLines)"
        meta["epoch_rate_sum"] = "\(epochTotals.rate)"
        meta["epoch_distortion_sum"] = "\(epochTotals.distortion)"
        meta["epoch_examples"] = "\(epochTotals.examples)"
        meta["epoch_seconds"] = "\(epochTotals.seconds)"
        meta["epoch_layer_rate_sums"] = epochTotals.layerRates.map { "\($0)" }.joined(separator: ",")
        if let sum = epochTotals.auxiliaryRate { meta["epoch_aux_rate_sum"] = "\(sum)" }
        if let minimum = epochTotals.minimumRate { meta["epoch_min_batch_rate"] = "\(minimum)" }
        meta["adam_step"] = "\(optimizer.step)"
        meta["model"] = String(decoding: try JSONEncoder().encode(self.model), as: UTF8.self)
        meta["objective_state"] = String(decoding: try JSONEncoder().encode(objective), as: UTF8.self)
        meta[Self.checksumKey] = Self.checksum(tensors, meta)
        try SafeTensors.write(tensors, metadata: meta, to: url)
    }

    /// Reads and verifies the file (format, checksum, counters, configuration) without touching any backend.
    public static func header(of url: URL) throws -> (checkpoint: Checkpoint, tensors: [String: SafeTensors.Entry]) {
        let (tensors, meta) = try SafeTensors.read(url)
        return (try verified(tensors, meta, file: url.path), tensors)
    }

    /// The checkpoint a file's tensors and metadata describe, or an error naming what is wrong.
    public static func verified(_ tensors: [String: SafeTensors.Entry], _ meta: [String: String], file: String) throws -> Checkpoint {
        func bad(_ reason: String) -> CheckpointError { .unreadable(file, reason) }
        guard let format = meta["format"] else { throw bad("not an rdlab checkpoint (no format in its metadata)") }
        switch format {
        case Self.format:
            guard let stored = meta[checksumKey] else { throw bad("no \(checksumKey) in its metadata") }
            let actual = checksum(tensors, meta)
            guard stored == actual else { throw bad("content checksum \(actual) does not match the stored \(stored): the file is damaged") }
        case legacyFormat:
            guard meta[checksumKey] == nil else { throw bad("format \(format) cannot carry a checksum: the file is damaged") }
        default:
            throw bad("unknown format '\(format)' (this rdlab reads \(Self.format) and \(legacyFormat))")
        }
        func counter(_ key: String, default value: Int? = nil, limit: Int) throws -> Int {
            guard let text = meta[key] ?? value.map(String.init) else { throw bad("no \(key) in its metadata") }
            guard let number = Int(text), number >= 0 else { throw bad("\(key) '\(text)' is not a count ≥ 0") }
            guard number <= limit else { throw bad("\(key) \(number) is more than \(limit)") }
            return number
        }
        func optionalNumber(_ key: String) throws -> Double? {
            guard let text = meta[key] else { return nil }
            guard let number = Double(text), number.isFinite else { throw bad("\(key) '\(text)' is not a finite number") }
            return number
        }
        func sum(_ key: String) throws -> Double { try optionalNumber(key) ?? 0 }
        // Every epoch takes at least one step, so no more epochs have begun than steps were taken.
        let step = try counter("step", limit: 1 << 40)
        let epoch = try counter("epoch", limit: step)
        let adamStep = try counter("adam_step", default: step, limit: 1 << 40)
        let layerSums = try (meta["epoch_layer_rate_sums"] ?? "").split(separator: ",").map { text in
            guard let number = Double(text), number.isFinite else { throw bad("epoch_layer_rate_sums holds '\(text)', not a finite number") }
            return number
        }
        let totals = EpochTotals(rate: try sum("epoch_rate_sum"), distortion: try sum("epoch_distortion_sum"),
            examples: try counter("epoch_examples", default: 0, limit: 1 << 50), seconds: try sum("epoch_seconds"),
            layerRates: layerSums, auxiliaryRate: try optionalNumber("epoch_aux_rate_sum"),
            minimumRate: try optionalNumber("epoch_min_batch_rate"))
        guard let model = meta["model"] else { throw bad("no model configuration in its metadata") }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(model.utf8))
        } catch let error as DecodingError {
            throw bad("model configuration: \(error.plainDescription)")
        }
        if let problem = spec.problem() { throw bad("model configuration: \(problem.setting.rawValue) \(problem.reason)") }
        var objective = ObjectiveState()
        if let text = meta["objective_state"] {
            do {
                objective = try JSONDecoder().decode(ObjectiveState.self, from: Data(text.utf8))
            } catch let error as DecodingError {
                throw bad("objective state: \(error.plainDescription)")
            }
            guard objective.multipliers.values.allSatisfy(\.isFinite), objective.constraintAverage?.isFinite ?? true else {
                throw bad("objective state holds a non-finite multiplier")
            }
        }
        return Checkpoint(step: step, epoch: epoch, metricsLines: try counter("metrics_lines", default: 2 * epoch, limit: 1 << 42),
            epochTotals: totals, adamStep: adamStep, model: spec, objective: objective, metadata: meta)
    }

    /// Format 1 counted an epoch cut short by `--max-steps` as finished (`epoch` one past the
    /// step's epoch, its lines committed). Such a state is taken back to the epoch in progress,
    /// so that its lines are dropped and written again when it ends; it had no totals, so the
    /// epoch's train figures cover the steps after the resume. Returns whether it changed.
    public mutating func adoptLegacyBudgetStop(stepsPerEpoch: Int) -> Bool {
        guard metadata["format"] == Self.legacyFormat, stepsPerEpoch > 0 else { return false }
        let (completed, into) = step.quotientAndRemainder(dividingBy: stepsPerEpoch)
        guard into != 0, epoch == completed + 1 else { return false }
        epoch = completed
        metricsLines = min(metricsLines, 2 * completed)
        return true
    }

    /// Whether the counters fit a training set of `stepsPerEpoch` batches: the step lies in the
    /// epoch in progress (at its start, or inside it), or ends the epoch before, whose
    /// evaluation is pending (its totals not yet committed).
    public func fits(stepsPerEpoch: Int) -> Bool {
        guard stepsPerEpoch > 0 else { return false }
        let (completed, into) = step.quotientAndRemainder(dividingBy: stepsPerEpoch)
        return epoch == completed || (into == 0 && epoch + 1 == completed && epochTotals.examples > 0)
    }

    /// Loads parameters (and, when given, the optimiser state) into a model built from the
    /// header. Every parameter must be there with its shape and finite values; with an
    /// optimiser, both Adam moments of every parameter too; a tensor that belongs to neither is
    /// an error.
    public static func restore(from url: URL, into model: any RateDistortionModel, optimizer: Adam?) throws -> Checkpoint {
        let (checkpoint, tensors) = try header(of: url)
        func check(_ name: String, shape: [Int]) throws -> SafeTensors.Entry {
            guard let entry = tensors[name] else {
                throw CheckpointError.mismatch(url.path, "no tensor \(name)\(name.hasPrefix("adam.") ? " (optimizer state)" : "")")
            }
            guard entry.shape == shape else {
                throw CheckpointError.mismatch(url.path, "\(name) has shape \(entry.shape), the model needs \(shape)")
            }
            guard entry.values.allSatisfy(\.isFinite) else { throw CheckpointError.unreadable(url.path, "\(name) holds NaN or infinite values") }
            return entry
        }
        var expected = Set<String>()
        var values: [(Parameter, [Float])] = []
        var moments: [String: (first: [Float], second: [Float])] = [:]
        for parameter in model.parameters {
            values.append((parameter, try check(parameter.name, shape: parameter.tensor.shape).values))
            let m = "adam.m.\(parameter.name)", v = "adam.v.\(parameter.name)"
            expected.formUnion([parameter.name, m, v])
            // Version 1 wrote moments only for parameters that had had a gradient.
            let legacyWithout = checkpoint.metadata["format"] == legacyFormat && tensors[m] == nil && tensors[v] == nil
            if optimizer != nil && !legacyWithout {
                moments[parameter.name] = (try check(m, shape: [parameter.tensor.count]).values,
                    try check(v, shape: [parameter.tensor.count]).values)
            }
        }
        if let stray = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw CheckpointError.mismatch(url.path, "tensor \(stray) belongs to no parameter of this model")
        }
        for (parameter, entry) in values { try model.backend.upload(entry, to: parameter.tensor.buffer) }
        try optimizer?.restore(step: checkpoint.adamStep, moments: moments)
        return checkpoint
    }

    /// CRC-32 (hex) of every tensor's name, shape and values in name order, then every
    /// metadata entry but the checksum itself in key order.
    static func checksum(_ tensors: [String: SafeTensors.Entry], _ metadata: [String: String]) -> String {
        var crc = crc32(0, nil, 0)
        func add(_ bytes: UnsafeRawBufferPointer) {
            var rest = bytes
            while !rest.isEmpty {
                let n = min(rest.count, Int(UInt32.max))
                crc = crc32(crc, rest.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(n))
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
        func add(_ text: String) { Array(text.utf8 + [0]).withUnsafeBytes(add) }
        for name in tensors.keys.sorted() {
            let entry = tensors[name]!
            add(name)
            entry.shape.map { Int64($0).littleEndian }.withUnsafeBytes(add)
            entry.values.map { $0.bitPattern.littleEndian }.withUnsafeBytes(add)
        }
        for key in metadata.keys.sorted() where key != checksumKey {
            add(key)
            add(metadata[key]!)
        }
        return String(format: "%08x", UInt32(truncatingIfNeeded: crc))
    }
}
