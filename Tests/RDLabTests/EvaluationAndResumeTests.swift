import Foundation
import Logging
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// Test batches of fixed images, in order.
struct FixedTestData: RunData {
    let images: [Float]
    let count: Int
    let batchSize: Int

    var source: String { "test fixtures" }
    var trainingExamples: Int { count }
    var stepsPerEpoch: Int { testBatchCount }
    func trainingBatch(epoch: Int, index: Int) -> HostBatch { testBatch(index) }
    var testExamples: Int { count }
    var testBatchCount: Int { (count + batchSize - 1) / batchSize }
    func testBatch(_ index: Int) -> HostBatch {
        let rows = index * batchSize..<min((index + 1) * batchSize, count)
        return HostBatch(values: Array(images[(rows.lowerBound * 784)..<(rows.upperBound * 784)]), shape: [rows.count, 28, 28, 1])
    }
}

/// The importance-weighted bound, the training loop of the library resumed mid-run, and
/// checkpoints written before the model layer was opened.
@Suite("Evaluation and resume", .serialized)
struct EvaluationAndResumeTests {
    static func testData(_ count: Int, batch: Int) throws -> FixedTestData {
        let test = try #require(VAETests.mnist).test
        return FixedTestData(images: test.batch(0..<count, binarization: .none, seed: 0, epoch: 0), count: count, batchSize: batch)
    }

    /// K = 1 is the ELBO on the same noise; on a trained model the K = 5 and K = 100 bounds lie
    /// above it and do not decrease with K (the draws of K = 5 are the first of K = 100).
    @Test func importanceWeightedBoundsAreAboveTheELBOAndGrowWithK() throws {
        let (_, trainer, _) = try ObjectiveTests.convRun(ObjectiveSpec(), epochs: 4)
        let data = try Self.testData(40, batch: 20)
        let (elbo, _) = try Evaluator.rateDistortion(trainer, data)
        let one = try Evaluator.importanceWeighted(trainer, data, samples: 1).bound
        let five = try Evaluator.importanceWeighted(trainer, data, samples: 5).bound
        let hundred = try Evaluator.importanceWeighted(trainer, data, samples: 100).bound
        print("IWAE on 40 test images: ELBO \(-elbo.negativeELBO), K=1 \(one), K=5 \(five), K=100 \(hundred)")
        #expect(one == -elbo.negativeELBO)
        #expect(five >= -elbo.negativeELBO && hundred >= five)
    }

    /// The log weights of the analytic-KL family average to the ELBO over draws (the KL is the
    /// expectation of log e − log m); a Monte Carlo rate gives log w = −(D + R) draw by draw.
    @Test func logWeightsMatchTheRates() throws {
        let backend = AvailableBackends.cpu.backend
        let images = try Self.testData(4, batch: 4).testBatch(0)
        for spec in [AlemiSpec(latentDimension: 4), AlemiSpec(latentDimension: 4, encoder: .iaf, flowSteps: 1, madeHidden: [8])] {
            let model = try ConvAutoencoder(spec, backend: backend, seed: 2)
            var meanLogWeight = 0.0, elbo = 0.0
            let draws = 400
            for draw in 0..<draws {
                let graph = Graph(backend: backend)
                let out = try model(try graph.constant(images.values, shape: images.shape), in: graph, seed: 2, noiseStream: UInt64(draw))
                let logWeights = try graph.values(try out.importanceWeights.logWeights()).map(Double.init)
                let d = try graph.values(out.distortion).map(Double.init), r = try graph.values(out.rate).map(Double.init)
                if spec.encoder == .iaf {
                    for i in 0..<4 { #expect(abs(logWeights[i] + d[i] + r[i]) < 1e-3 * abs(d[i])) }
                }
                meanLogWeight += logWeights.reduce(0, +) / Double(4 * draws)
                elbo -= (d.reduce(0, +) + r.reduce(0, +)) / Double(4 * draws)
            }
            #expect(abs(meanLogWeight - elbo) < 0.5, "family \(spec.family): mean log w \(meanLogWeight), ELBO \(elbo)")
        }
    }

    /// What the specification says about free bits per dimension is what the model's output
    /// gives: a rate per dimension exactly where `ratesPerDimension` holds.
    @Test func ratesPerDimensionAgreeWithTheOutput() throws {
        let backend = AvailableBackends.cpu.backend
        let specs: [ModelSpec] = [.alemi(AlemiSpec(latentDimension: 2)),
            .alemi(AlemiSpec(latentDimension: 2, encoder: .iaf, flowSteps: 1, madeHidden: [4])),
            .alemi(AlemiSpec(latentDimension: 2, marginal: .maf, flowSteps: 1, madeHidden: [4])),
            .alemi(AlemiSpec(latentDimension: 2, marginal: .vamp, vampComponents: 2)), .echo(EchoSpec(latentDimension: 2, terms: 1)),
            .toy(ToySpec()), .hierarchical(HierarchicalSpec(inference: .lvae, channels: 2, topDimension: 2))]
        for spec in specs {
            let model = try spec.makeModel(backend: backend, seed: 1)
            let graph = Graph(backend: backend)
            let batch = spec.readsImages ? try Self.testData(2, batch: 2).testBatch(0) : ToyDistribution().testBatch(0)
            let out = try model(try graph.constant(batch.values, shape: batch.shape), in: graph, seed: 1, noiseStream: 0)
            #expect(out.rates.allSatisfy { ($0.perDimension != nil) == spec.ratesPerDimension }, "\(spec)")
        }
    }

    /// The Echo channel has no density e(z|x): the bound is refused, saying why.
    @Test func echoIsRefused() throws {
        let backend = AvailableBackends.cpu.backend
        let model = try ConvAutoencoder(EchoSpec(latentDimension: 4, terms: 3), backend: backend, seed: 1)
        let data = try Self.testData(8, batch: 4)
        let reason = try #require(try Evaluator.importanceWeightingProblem(model, example: data.testBatch(0)))
        #expect(reason.contains("Echo channel has no density e(z|x)"))
        let trainer = ModelTrainer.plain(model, seed: 1)
        #expect(throws: EvaluationError.noDensity(reason)) { try Evaluator.importanceWeighted(trainer, data, samples: 5) }
    }

    /// A toy run with a target rate trained 2 epochs straight, or 1 epoch and then resumed for
    /// the second: the same metrics (λ and per-layer rates included), λ and parameters.
    @Test func aResumedTargetRateRunEndsWhereAStraightOneDoes() throws {
        let root = try TestDatasets.temporaryDirectory("toy-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let backend = AvailableBackends.cpu.backend
        var settings = RunSettings(dataset: ToyDistribution.name, binarize: "none", model: .toy(ToySpec()),
            objective: ObjectiveSpec(weight: .targetRate(TargetRate(rate: 0.5))), epochs: 2, maxSteps: nil, trainLimit: nil,
            testLimit: nil, batchSize: 30, learningRate: 0.05, learningRateSchedule: .constant, normalizeGradients: false, seed: 4)
        let provenance = RunProvenance(backendRequested: "cpu", backendUsed: "cpu:0", device: "CPU", driver: "x",
            fallbackReason: nil, rdlabVersion: "0", rdlabCommit: "x", started: "now")
        let logger = Logger(label: "test")
        let data = ToyDistribution(stepsPerEpoch: 50)
        let straight = RunDirectory(url: root.appendingPathComponent("straight"))
        try TrainingRun(directory: straight, settings: settings, resumed: nil, backend: backend, data: data, provenance: provenance,
            logger: logger).run()
        let split = RunDirectory(url: root.appendingPathComponent("split"))
        settings.epochs = 1
        try TrainingRun(directory: split, settings: settings, resumed: nil, backend: backend, data: data, provenance: provenance,
            logger: logger).run()
        let config = try split.readConfig(datasets: [], binarizations: [])
        settings = config.settings
        settings.epochs = 2
        try TrainingRun(directory: split, settings: settings, resumed: config, backend: backend, data: data, provenance: provenance,
            logger: logger).run()
        func lines(_ directory: RunDirectory) throws -> [NSDictionary] {
            try String(contentsOf: directory.metrics, encoding: .utf8).split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return object.filter { !["seconds", "examples_per_second"].contains($0.key) } as NSDictionary
            }
        }
        let expected = try lines(straight)
        #expect(expected.count == 4 && (expected[2]["rates_nats"] as? [String: Double])?["z"] != nil)
        #expect(expected[0]["beta"] as? Double != expected[2]["beta"] as? Double, "λ moves between epochs")
        #expect(try lines(split) == expected)
        let a = try Checkpoint.header(of: straight.checkpoint), b = try Checkpoint.header(of: split.checkpoint)
        #expect(a.checkpoint.objective == b.checkpoint.objective && a.checkpoint.objective.multipliers["z"] != nil)
        for name in a.tensors.keys { #expect(a.tensors[name] == b.tensors[name], "\(name) differs") }
    }

    /// A checkpoint written by the release before the model layer was opened (Echo, step 0,
    /// seed 3) restores into the model its header names, with the parameters the same seed
    /// draws today: names, shapes and initialisation are unchanged.
    @Test func aCheckpointSavedBeforeTheChangeRestores() throws {
        let folder = URL(fileURLWithPath: TestDatasets.fixtures).deletingLastPathComponent().appendingPathComponent("legacy-runs/echo-step0")
        let packed = try Data(contentsOf: folder.appendingPathComponent("checkpoint.safetensors.gz"))
        let root = try TestDatasets.temporaryDirectory("legacy-checkpoint")
        defer { try? FileManager.default.removeItem(at: root) }
        let url = root.appendingPathComponent("checkpoint.safetensors")
        try Data(try Gzip.decompress(Array(packed), file: url.path)).write(to: url)
        let backend = AvailableBackends.cpu.backend
        let header = try Checkpoint.header(of: url).checkpoint
        #expect(header.model == .echo(EchoSpec(latentDimension: 8, terms: 7)) && header.objective == ObjectiveState())
        let config = try RunDirectory.decodeConfig(try Data(contentsOf: folder.appendingPathComponent("config.json")),
            file: "config.json", datasets: ["binarized-mnist"], binarizations: ["none"])
        #expect(config.settings.model == header.model)
        let restored = try header.model.makeModel(backend: backend, seed: 99)
        _ = try Checkpoint.restore(from: url, into: restored, optimizer: Adam(backend: backend))
        let fresh = try header.model.makeModel(backend: backend, seed: 3)
        for (a, b) in zip(restored.parameters, fresh.parameters) {
            let restoredValues = try backend.download(a.tensor.buffer), freshValues = try backend.download(b.tensor.buffer)
            #expect(a.name == b.name && restoredValues == freshValues, "\(a.name)")
        }
    }
}
