import Foundation
import RDCompute

/// Everything a run needs to continue: parameters, Adam's moments and step, the training step
/// and epoch, and the model configuration — one safetensors file, written atomically.
///
/// Names: parameters under their own names (`encoder.conv1.weight`), moments under
/// `adam.m.<name>` and `adam.v.<name>`; counters and the configuration in the metadata.
public struct Checkpoint {
    public var step: Int
    public var epoch: Int
    public var configuration: VAEConfiguration
    public var metadata: [String: String]

    public init(step: Int, epoch: Int, configuration: VAEConfiguration, metadata: [String: String] = [:]) {
        self.step = step
        self.epoch = epoch
        self.configuration = configuration
        self.metadata = metadata
    }

    /// Writes the model and optimiser state with the counters.
    public func save(model: ConvAutoencoder, optimizer: Adam, to url: URL) throws {
        var tensors: [String: SafeTensors.Entry] = [:]
        for parameter in model.parameters {
            tensors[parameter.name] = SafeTensors.Entry(shape: parameter.tensor.shape,
                values: try model.backend.download(parameter.tensor.buffer))
        }
        for (name, moment) in try optimizer.momentValues() {
            tensors["adam.m.\(name)"] = SafeTensors.Entry(shape: [moment.first.count], values: moment.first)
            tensors["adam.v.\(name)"] = SafeTensors.Entry(shape: [moment.second.count], values: moment.second)
        }
        var meta = metadata
        meta["format"] = "rdlab-checkpoint-1"
        meta["step"] = "\(step)"
        meta["epoch"] = "\(epoch)"
        meta["adam_step"] = "\(optimizer.step)"
        meta["model"] = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        try SafeTensors.write(tensors, metadata: meta, to: url)
    }

    /// Reads the counters and configuration (to build the model) without touching any backend.
    public static func header(of url: URL) throws -> (checkpoint: Checkpoint, tensors: [String: SafeTensors.Entry]) {
        let (tensors, meta) = try SafeTensors.read(url)
        guard meta["format"] == "rdlab-checkpoint-1", let step = meta["step"].flatMap(Int.init),
            let epoch = meta["epoch"].flatMap(Int.init), let model = meta["model"],
            let configuration = try? JSONDecoder().decode(VAEConfiguration.self, from: Data(model.utf8))
        else { throw CheckpointError.unreadable(url.path, "not an rdlab checkpoint (missing format, step, epoch or model metadata)") }
        return (Checkpoint(step: step, epoch: epoch, configuration: configuration, metadata: meta), tensors)
    }

    /// Loads parameters (and, when given, the optimiser state) into a model built from the header.
    public static func restore(from url: URL, into model: ConvAutoencoder, optimizer: Adam?) throws -> Checkpoint {
        let (checkpoint, tensors) = try header(of: url)
        for parameter in model.parameters {
            guard let entry = tensors[parameter.name] else { throw CheckpointError.mismatch(url.path, "no tensor \(parameter.name)") }
            guard entry.shape == parameter.tensor.shape else {
                throw CheckpointError.mismatch(url.path, "\(parameter.name) has shape \(entry.shape), the model needs \(parameter.tensor.shape)")
            }
            try model.backend.upload(entry.values, to: parameter.tensor.buffer)
        }
        if let optimizer {
            var moments: [String: (first: [Float], second: [Float])] = [:]
            for parameter in model.parameters {
                if let m = tensors["adam.m.\(parameter.name)"], let v = tensors["adam.v.\(parameter.name)"] {
                    moments[parameter.name] = (m.values, v.values)
                }
            }
            try optimizer.restore(step: checkpoint.metadata["adam_step"].flatMap(Int.init) ?? checkpoint.step, moments: moments)
        }
        return checkpoint
    }
}
