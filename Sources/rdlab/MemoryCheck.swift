import Foundation
import Logging
import RDCompute
import RDLab

/// Checks a training step's estimated memory (``StepMemory``) against what the device has,
/// before the run allocates it: above the budget the run is refused with the estimate and what
/// to lower; above half of it, a warning. The budget is the device's memory (for the CPU
/// backend, the machine's), or `RDLAB_MEMORY_BUDGET` (bytes, or with KiB, MiB, GiB) when set.
enum MemoryCheck {
    static let variable = "RDLAB_MEMORY_BUDGET"

    static func budget(of device: DeviceDescription, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (bytes: Int, source: String) {
        let deviceBytes = Int(clamping: device.globalMemoryBytes)
        guard let text = environment[variable], !text.isEmpty else {
            return (deviceBytes, "the \(formatted(deviceBytes)) of \(device.selector) (\(device.name))")
        }
        guard let bytes = parse(text), bytes > 0 else {
            throw CleanExit.failure("\(variable)='\(text)': give bytes, or a number with KiB, MiB or GiB (e.g. 2GiB)")
        }
        return (min(bytes, deviceBytes), "the budget \(variable)=\(text)")
    }

    /// `1048576`, `512MiB`, `1.5GiB` → bytes.
    static func parse(_ text: String) -> Int? {
        let units: [(String, Double)] = [("KiB", 0x1p10), ("MiB", 0x1p20), ("GiB", 0x1p30), ("TiB", 0x1p40)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value.isFinite,
                value > 0, value * scale < 9e18
            else { return nil }
            return Int(value * scale)
        }
        return Int(text)
    }

    static func formatted(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.2f GiB", Double(bytes) / Double(1 << 30))
            : String(format: "%.0f MiB", (Double(bytes) / Double(1 << 20)).rounded(.up))
    }

    /// Estimates a step of `model` (``StepMemory``), logs it and returns its bytes; throws when it
    /// exceeds the budget, naming `--activation-memory recomputed` where that fits; warns above
    /// half of it.
    static func check(_ model: ModelSpec, exampleShape: [Int], batch: Int, activations: ActivationMemory, backend: any Backend,
        logger: Logger) throws -> Int {
        let memory = try StepMemory.estimate(model, exampleShape: exampleShape, backend: backend, activations: activations)
        let (budget, source) = try budget(of: backend.device)
        let need = memory.bytes(batch: batch)
        let peak = memory.peak(batch: batch)
        let breakdown = "\(formatted(peak.perExampleBytes)) per example × batch \(batch) + \(formatted(peak.fixedBytes + memory.parameterBytes)) of parameters, Adam state and fixed buffers"
        if need > budget {
            var advice = [String]()
            if activations == .kept, model.hasCheckpointedSegments {
                let recomputed = try StepMemory.estimate(model, exampleShape: exampleShape, backend: backend, activations: .recomputed)
                if recomputed.bytes(batch: batch) <= budget {
                    advice.append("pass --activation-memory recomputed (about \(formatted(recomputed.bytes(batch: batch))))")
                }
            }
            let fits = memory.largestBatch(within: budget)
            advice.append(fits >= 1 ? "lower --batch-size to \(fits) or less" : "choose a smaller model (--latent-dim, --pixelcnn-features, --vamp-components)")
            throw CleanExit.failure("a training step needs about \(formatted(need)) (\(breakdown)), more than \(source); \(advice.joined(separator: ", or ")), or use a device with more memory")
        }
        if need > budget / 2 {
            logger.warning("a training step needs about \(formatted(need)) (\(breakdown)), over half of \(source); lower --batch-size if the machine starts swapping")
        } else {
            logger.info("memory: a training step needs about \(formatted(need)) (\(breakdown), activations \(activations))")
        }
        return need
    }
}
