import Foundation
import RDCompute
import RDTestSupport
import Testing

@testable import RDLab

/// Damage is detected, never trusted: the checkpoint's checksum, format and counters, the
/// safetensors structure, and the state a restore accepts.
@Suite("Checkpoint integrity")
struct CheckpointIntegrityTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus/FuzzSafeTensors")

    static func verify(_ data: Data) throws -> Checkpoint {
        let (tensors, metadata) = try SafeTensors.decode(data, file: "x.safetensors")
        return try Checkpoint.verified(tensors, metadata, file: "x.safetensors")
    }

    /// The fuzz seeds written by `make_corpus.py` (its CRC-32 agrees with ``Checkpoint``'s):
    /// the valid ones load, each malformed one is refused with its own one-line reason.
    @Test(arguments: [
        ("valid.safetensors", nil),
        ("legacy-format-1.safetensors", nil),
        ("missing-optimizer-tensor.safetensors", nil),  // structurally fine: restore() refuses it
        ("non-finite-parameter.safetensors", nil),  // likewise
        ("bit-flip-in-data.safetensors", "does not match the stored"),
        ("checksum-mismatch.safetensors", "does not match the stored"),
        ("negative-step.safetensors", "step '-3' is not a count ≥ 0"),
        ("epoch-beyond-step.safetensors", "epoch 5 is more than 3"),
        ("huge-counters.safetensors", "step 4611686018427387904 is more than 1099511627776"),
        ("overlapping-offsets.safetensors", "overlaps the data of another tensor"),
        ("out-of-range-offsets.safetensors", "lie outside the"),
        ("element-count-overflow.safetensors", "more elements than fit in memory"),
        ("negative-dimension.safetensors", "not a list of non-negative integers"),
        ("unknown-dtype.safetensors", "has dtype F16; only F32 is supported"),
        ("hole-between-tensors.safetensors", "belong to no tensor"),
        ("non-string-metadata.safetensors", "__metadata__ is not a map of strings"),
        ("model-out-of-range.safetensors", "latentDimension must be between 1 and 4096"),
        ("unknown-format.safetensors", "unknown format 'rdlab-checkpoint-9'"),
        ("typed-model.safetensors", nil),
        ("objective-state-not-a-number.safetensors", "objective state: field multipliers.z is not a number"),
        ("header-length-past-end.safetensors", "does not fit a file of"),
        ("truncated.safetensors", "lie outside the"),
    ] as [(String, String?)])
    func seedCorpus(file: String, reason: String?) throws {
        let data = try Data(contentsOf: Self.corpus.appendingPathComponent(file))
        guard let reason else {
            let checkpoint = try Self.verify(data)
            #expect(checkpoint.step == 3 && checkpoint.epoch == 1
                && checkpoint.model == .alemi(AlemiSpec(latentDimension: 2, flowSteps: 1, madeHidden: [2], vampComponents: 1,
                    pixelcnnFeatures: 1, pixelcnnResnets: 1)))
            return
        }
        do {
            _ = try Self.verify(data)
            Issue.record("\(file) was accepted")
        } catch let error as CheckpointError {
            #expect(error.description.hasPrefix("checkpoint x.safetensors: "))
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    /// A small checkpoint written by ``Checkpoint``'s own checksum: every single-bit flip
    /// anywhere in the file — length, header or data — is refused.
    @Test func everySingleBitFlipIsRefused() throws {
        let tensors = ["w": SafeTensors.Entry(shape: [2, 2], values: [1, -2, 0.5, 3]),
            "adam.m.w": SafeTensors.Entry(shape: [4], values: [0, 0.1, 0, 0]),
            "adam.v.w": SafeTensors.Entry(shape: [4], values: [0, 0.01, 0, 0])]
        var metadata = ["format": Checkpoint.format, "step": "7", "epoch": "1", "metrics_lines": "2", "adam_step": "7",
            "model": String(decoding: try JSONEncoder().encode(ModelSpec.alemi(AlemiSpec(latentDimension: 2))), as: UTF8.self)]
        metadata[Checkpoint.checksumKey] = Checkpoint.checksum(tensors, metadata)
        let file = try SafeTensors.encode(tensors, metadata: metadata)
        #expect(try Self.verify(file).step == 7)
        var accepted: [String] = []
        for byte in 0..<file.count {
            for bit in 0..<8 {
                var damaged = file
                damaged[byte] ^= 1 << UInt8(bit)
                if (try? Self.verify(damaged)) != nil { accepted.append("byte \(byte) bit \(bit)") }
            }
        }
        #expect(accepted.isEmpty, "\(accepted.count) of \(8 * file.count) flips were accepted: \(accepted.prefix(10))")
    }

    static func model(_ backend: any Backend, seed: UInt64 = 1) throws -> ConvAutoencoder {
        try ConvAutoencoder(AlemiSpec(latentDimension: 2), backend: backend, seed: seed)
    }

    /// A trained state with Adam's moments, saved to a fresh file.
    static func saved(_ backend: any Backend) throws -> (url: URL, model: ConvAutoencoder, optimizer: Adam) {
        let model = try Self.model(backend)
        let optimizer = Adam(backend: backend)
        let graph = Graph(backend: backend)
        let out = try model(try graph.filled(0.5, shape: [2, 28, 28, 1]), in: graph, seed: 1, noiseStream: 0)
        try graph.backward(from: try graph.mean(try graph.add(out.distortion, out.rate)))
        try optimizer.update(model.parameters, gradientsFrom: graph)
        let url = try TestDatasets.temporaryDirectory("checkpoint").appendingPathComponent("checkpoint.safetensors")
        try Checkpoint(step: 1, epoch: 0, model: model.spec).save(model: model, optimizer: optimizer, to: url)
        return (url, model, optimizer)
    }

    /// Rewrites a checkpoint with changed tensors and a checksum that fits them, so that only
    /// the change is wrong.
    static func rewrite(_ url: URL, _ change: (inout [String: SafeTensors.Entry], inout [String: String]) -> Void) throws {
        var (tensors, metadata) = try SafeTensors.read(url)
        change(&tensors, &metadata)
        metadata[Checkpoint.checksumKey] = Checkpoint.checksum(tensors, metadata)
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    @Test func restoreRefusesMissingOptimizerStateNonFiniteValuesAndStrayTensors() throws {
        let backend = AvailableBackends.cpu.backend
        let (url, _, _) = try Self.saved(backend)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let original = try Data(contentsOf: url)
        func refusal() -> String {
            do {
                _ = try Checkpoint.restore(from: url, into: try Self.model(backend, seed: 2), optimizer: Adam(backend: backend))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal() == "accepted")
        try Self.rewrite(url) { tensors, _ in tensors["adam.v.encoder.conv3.bias"] = nil }
        #expect(refusal().contains("no tensor adam.v.encoder.conv3.bias (optimizer state)"), "\(refusal())")
        // Evaluation needs no optimiser state.
        #expect((try? Checkpoint.restore(from: url, into: try Self.model(backend), optimizer: nil)) != nil)
        try original.write(to: url)
        try Self.rewrite(url) { tensors, _ in
            let w = tensors["decoder.logits.bias"]!
            tensors["decoder.logits.bias"] = SafeTensors.Entry(shape: w.shape, values: [.infinity] + w.values.dropFirst())
        }
        #expect(refusal().contains("decoder.logits.bias holds NaN or infinite values"), "\(refusal())")
        try original.write(to: url)
        try Self.rewrite(url) { tensors, _ in tensors["extra.weight"] = SafeTensors.Entry(shape: [1], values: [0]) }
        #expect(refusal().contains("tensor extra.weight belongs to no parameter"), "\(refusal())")
    }

    /// A non-finite state is never written: the save throws and the last good file stays.
    @Test func aNonFiniteStateIsNotSaved() throws {
        let backend = AvailableBackends.cpu.backend
        let (url, model, optimizer) = try Self.saved(backend)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let good = try Data(contentsOf: url)
        let parameter = model.parameters[3]
        var values = try backend.download(parameter.tensor.buffer)
        values[0] = .nan
        try backend.upload(values, to: parameter.tensor.buffer)
        do {
            try Checkpoint(step: 2, epoch: 0, model: model.spec).save(model: model, optimizer: optimizer, to: url)
            Issue.record("a NaN state was saved")
        } catch let error as CheckpointError {
            #expect(error.description.contains("\(parameter.name) holds NaN or infinite values"), "\(error)")
            #expect(error.description.contains("last good state"))
        }
        #expect(try Data(contentsOf: url) == good)
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["checkpoint.safetensors"])
    }

    /// Version-1 checkpoints (before the checksum and metrics_lines; moments only for parameters
    /// that had a gradient) still restore; a version-1 file carrying a checksum is damaged.
    @Test func legacyCheckpointsRestore() throws {
        let backend = AvailableBackends.cpu.backend
        let (url, _, _) = try Self.saved(backend)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var (tensors, metadata) = try SafeTensors.read(url)
        metadata["format"] = Checkpoint.legacyFormat
        for key in ["metrics_lines", "epoch_rate_sum", "epoch_distortion_sum", "epoch_examples", "epoch_seconds",
            "epoch_layer_rate_sums", "objective_state"] { metadata[key] = nil }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        #expect(throws: CheckpointError.self) { try Checkpoint.header(of: url) }
        metadata[Checkpoint.checksumKey] = nil
        tensors["adam.m.encoder.conv1.bias"] = nil
        tensors["adam.v.encoder.conv1.bias"] = nil
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        let restored = try Checkpoint.restore(from: url, into: try Self.model(backend, seed: 9), optimizer: Adam(backend: backend))
        #expect(restored.step == 1 && restored.metricsLines == 0 && restored.epochTotals == EpochTotals())
    }

    /// A resumed state must lie in the epoch it names, or end the one before with its
    /// evaluation pending; counted by division, so no counter can overflow.
    @Test func countersFitTheTrainingSet() {
        func fits(_ step: Int, _ epoch: Int, examples: Int = 0, per stepsPerEpoch: Int = 10) -> Bool {
            Checkpoint(step: step, epoch: epoch, epochTotals: EpochTotals(examples: examples),
                model: .alemi(AlemiSpec())).fits(stepsPerEpoch: stepsPerEpoch)
        }
        #expect(fits(0, 0) && fits(20, 2) && fits(23, 2, examples: 150) && fits(20, 1, examples: 500))
        #expect(!fits(20, 1) && !fits(23, 1, examples: 150) && !fits(23, 3) && !fits(5, 0, per: 0))
        #expect(!fits(1 << 40, Int.max) && fits(Int.max, Int.max / 7, per: 7))
    }

    /// A format-1 checkpoint of a run stopped inside an epoch by `--max-steps` named the next
    /// epoch; it is taken back to the epoch in progress (and nothing else is touched).
    @Test func legacyBudgetStopsAreTakenBackToTheirEpoch() {
        var legacy = Checkpoint(step: 23, epoch: 3, metricsLines: 6, model: .alemi(AlemiSpec()),
            metadata: ["format": Checkpoint.legacyFormat])
        #expect(!legacy.fits(stepsPerEpoch: 10))
        let changed = legacy.adoptLegacyBudgetStop(stepsPerEpoch: 10)
        #expect(changed && legacy.epoch == 2 && legacy.metricsLines == 4 && legacy.fits(stepsPerEpoch: 10))
        let again = legacy.adoptLegacyBudgetStop(stepsPerEpoch: 10)
        #expect(!again)
        var current = Checkpoint(step: 23, epoch: 3, metricsLines: 6, model: .alemi(AlemiSpec()),
            metadata: ["format": Checkpoint.format])
        let currentChanged = current.adoptLegacyBudgetStop(stepsPerEpoch: 10)
        #expect(!currentChanged && current.epoch == 3)
    }

    /// The state of an epoch in progress survives a save and a load exactly.
    @Test func epochTotalsAndMetricsLinesRoundTrip() throws {
        let backend = AvailableBackends.cpu.backend
        let (url, model, optimizer) = try Self.saved(backend)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let totals = EpochTotals(rate: 1234.5678901234567, distortion: 0.1 + 0.2, examples: 350, seconds: 12.75,
            layerRates: [1234.5678901234567], auxiliaryRate: 987.6543210987654, minimumRate: 48.237099999999998)
        let objective = ObjectiveState(multipliers: ["z": 0.123456789012345], constraintAverage: -3.25)
        try Checkpoint(step: 17, epoch: 3, metricsLines: 6, epochTotals: totals, model: model.spec, objective: objective)
            .save(model: model, optimizer: optimizer, to: url)
        let header = try Checkpoint.header(of: url).checkpoint
        #expect(header.step == 17 && header.epoch == 3 && header.metricsLines == 6 && header.epochTotals == totals)
        #expect(header.objective == objective)
    }
}
