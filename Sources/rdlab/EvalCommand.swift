import ArgumentParser
import Foundation
import Logging
import RDCompute
import RDData
import RDLab

/// `rdlab eval`: test-set rate, distortion and −ELBO of a trained model, and its
/// importance-weighted bound, on any backend.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test-set R, D and −ELBO (nats per example) of a run or checkpoint, the IWAE bound with --iwae K, and HIT's probes with --probes.",
        discussion: """
            --iwae K adds the importance-weighted bound log p(x) ≥ E log (1/K) Σ_k d(x|z_k) m(z_k) / e(z_k|x) \
            (K = 1 is the ELBO, Alemi reports K = 5, K ≥ 1000 estimates log p(x)), for models with a density \
            e(z|x): the Gaussian and IAF encoders with any marginal. Draws are taken one at a time, so memory \
            does not grow with K; time does (K passes over the test set).

            --probes (hierarchical models, labelled data: mnist, fashion-mnist) measures what HIT measures: \
            PSNR of the mean-path reconstructions, and for each latent layer a multinomial logistic probe \
            (standardised features, L2 with C = 1) and a 5-nearest-neighbour probe on its posterior means \
            (z1 at one sampled z2) and on one posterior sample, fitted on 80 % of the test set (a split \
            seeded by --probe-split-seed) and scored on the other 20 %, beside the accuracy the layer's rate \
            allows: no classifier of a sample z_l beats g⁻¹(Σ_{l'≥l} R_l'), where \
            g(α) = H(Y) − H_b(α) − (1 − α) ln(M − 1).
            """)

    @OptionGroup var selection: BackendOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("run"), help: "A run directory written by rdlab train.") var runDirectory: String?
    @Option(help: "A checkpoint file (with --dataset when it is not binarized-mnist).") var checkpoint: String?
    @Option(help: "Dataset for --checkpoint (a run directory knows its own).") var dataset = "binarized-mnist"
    @Option(help: "Folder holding the dataset.") var dataDir: String?
    @Option(help: "Evaluate on only the first N test examples.") var testLimit: Int?
    @Option(help: "Batch size.") var batchSize = 100
    @Option(help: "Importance samples K of the IWAE bound (1 to 65535).") var iwae: Int?
    @Flag(help: "HIT's PSNR and per-layer probe accuracies with their information bound (hierarchical models, labelled datasets).") var probes = false
    @Option(help: "Seed of the probes' 80/20 split of the test set (default \(ProbeSplit.defaultSeed)).") var probeSplitSeed: UInt64?
    @Flag(help: "Print one JSON object (step, examples, rate_nats, distortion_nats, neg_elbo_nats, neg_iwae_nats, iwae_samples, probes, rate_floor_nats, rate_aux_nats, seconds) instead of text; neg_iwae_nats is −(the IWAE bound).") var json = false

    func validate() throws {
        guard (runDirectory == nil) != (checkpoint == nil) else { throw ValidationError("give exactly one of --run DIR or --checkpoint FILE") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1 (got \(testLimit))") }
        if let iwae, !(1...Evaluator.maximumSamples).contains(iwae) {
            throw ValidationError("--iwae must be between 1 and \(Evaluator.maximumSamples) (got \(iwae))")
        }
        if probeSplitSeed != nil && !probes { throw ValidationError("--probe-split-seed refines --probes, which is not given") }
        guard DatasetCatalog.names.contains(dataset) else {
            throw ValidationError("--dataset '\(dataset)': valid datasets are \(DatasetCatalog.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let logger = logging.bootstrap()
        var file: URL
        var settings: RunSettings?
        if let runDirectory {
            let directory = RunDirectory(url: URL(fileURLWithPath: runDirectory))
            settings = try directory.readConfig(datasets: DatasetCatalog.names,
                binarizations: Binarization.allCases.map(\.rawValue)).settings
            file = directory.checkpoint
        } else {
            file = URL(fileURLWithPath: checkpoint!)
        }
        let backend = try selection.select(logger: logger).backend
        let header = try Checkpoint.header(of: file).checkpoint
        let seed = settings?.seed ?? 0
        let model = try header.model.makeModel(backend: backend, seed: seed)
        _ = try Checkpoint.restore(from: file, into: model, optimizer: nil)
        let data: any RunData
        let name: String
        var labels: [UInt8]?
        if probes && !(model is any ProbedModel) {
            throw CleanExit.failure("--probes reads the posterior means of each latent layer: \(file.path) holds a \(header.model.kind.rawValue) model; train one with --model hierarchical")
        }
        if header.model.readsImages {
            name = settings?.dataset ?? dataset
            var test: Dataset
            do {
                test = try DataLocator(dataDirectory: dataDir).load(name, split: "test")
            } catch let error as DataError {
                throw CleanExit.failure(error.description)
            }
            if let limit = testLimit ?? settings?.testLimit { test = test.prefix(limit) }
            guard test.count > 0 else { throw CleanExit.failure("\(test.files[0]): the test split holds no examples") }
            labels = test.labels
            if probes && labels == nil {
                throw CleanExit.failure("--probes needs class labels: \(name) has none (\(test.files[0])); use a run on mnist or fashion-mnist")
            }
            // without a run's config: the binarisation the model trains with by default (HIT's rounding)
            let binarization = try settings.map { try Binarization(named: $0.binarize) }
                ?? (header.model.kind == .hierarchical ? .threshold : DatasetCatalog.entry(name).defaultBinarization)
            data = ImageRunData(train: test, test: test, binarization: binarization, seed: seed, batchSize: batchSize)
        } else {
            name = ToyDistribution.name
            data = ToyDistribution()
        }
        if iwae != nil, let reason = try Evaluator.importanceWeightingProblem(model, example: data.testBatch(0)) {
            throw EvaluationError.noDensity(reason)
        }
        let trainer = ModelTrainer(model: model, optimizer: Adam(backend: backend), objective: Objective(ObjectiveSpec()),
            learningRate: LearningRateSchedule(kind: .constant, learningRate: 0, totalSteps: 1), seed: seed)
        StopSignal.install()
        do {
            let (result, seconds) = try Evaluator.rateDistortion(trainer, data)
            // K = 1 is the ELBO just computed
            let bound = try iwae.map { $0 == 1 ? (-result.negativeELBO, 0) : try Evaluator.importanceWeighted(trainer, data, samples: $0) }
            let probeStarted = Date()
            var report: ProbeReport?
            if probes, let probed = model as? any ProbedModel, let labels {
                let classes = Int(labels.max() ?? 0) + 1
                report = try ProbeEvaluator.evaluate(probed, batches: data.testBatchCount, batch: data.testBatch,
                    labels: labels.map(Int.init), classes: max(classes, 2),
                    rates: Dictionary(uniqueKeysWithValues: zip(model.latentLayers, result.layerRates)), seed: seed,
                    split: probeSplitSeed ?? ProbeSplit.defaultSeed)
            }
            let probeSeconds = report == nil ? 0 : Date().timeIntervalSince(probeStarted)
            if json {
                let evaluation = Evaluation(step: header.step, examples: data.testExamples, rateNats: result.rate,
                    ratesNats: Dictionary(uniqueKeysWithValues: zip(model.latentLayers, result.layerRates)), distortionNats: result.distortion,
                    negElboNats: result.negativeELBO, negIwaeNats: bound.map { -$0.0 }, iwaeSamples: iwae, probes: report,
                    rateFloorNats: model.rateFloor, rateAuxNats: result.auxiliaryRate, seconds: seconds + (bound?.1 ?? 0) + probeSeconds)
                print(String(decoding: try JSONEncoder.rdlab(pretty: false).encode(evaluation), as: UTF8.self))
                return
            }
            let layers = model.latentLayers.count > 1
                ? " (" + zip(model.latentLayers, result.layerRates).map { String(format: "%@ %.3f", $0, $1) }.joined(separator: ", ") + ")" : ""
            print(String(format: "%@ test (%d examples, step %d, %@): R %.3f%@  D %.3f  −ELBO %.3f nats  (%.1f s)", name, data.testExamples,
                header.step, backend.device.selector, result.rate, layers, result.distortion, result.negativeELBO, seconds))
            if let iwae, let (bound, seconds) = bound {
                print(String(format: "IWAE bound, K = %d: log p(x) ≥ %.3f nats (−log p(x) ≤ %.3f; %.1f s)", iwae, bound, -bound, seconds))
            }
            if let report { print(report.table(seconds: probeSeconds)) }
            if let delta = model as? DeltaVAE {
                print(String(format: "δ-VAE: committed rate δ = %.3f nats (no rate falls below it)%@", delta.settings.committedRate,
                    result.auxiliaryRate.map { String(format: "; rate under the auxiliary LSTM prior %.3f nats", $0) } ?? ""))
            }
        } catch let interruption as Interrupted {
            throw ExitCode(128 + interruption.signal)
        }
        if let conv = model as? ConvAutoencoder, let echo = conv.channel as? EchoChannel, let floor = echo.rateFloor {
            print(String(format: "channel echo: R is the exact rate −Σ log s (floor %.3f nats, clip r = %.6f); each test batch of %d builds its own noise",
                floor, echo.clip, batchSize))
        }
        if let conv = model as? ConvAutoencoder, let delta = conv.channel as? DeltaChannel {
            print(delta.summary)
        }
    }
}

extension ProbeReport {
    /// The probes as `rdlab eval --probes` prints them: PSNR, then one line per layer.
    func table(seconds: Double) -> String {
        var lines = [String(format: "PSNR %@ dB (mean-path reconstructions); probes fitted on %d, scored on %d test examples (%d classes, split seed %llu; %.1f s)",
            psnrDecibels.map { String(format: "%.2f", $0) } ?? "∞", fittingExamples, heldOutExamples, classes, splitSeed, seconds)]
        lines.append("layer  features  dims  logistic  5-NN      bound (nats)       chance")
        for (layer, kind) in layers.map({ ($0, "mean") }) + sampledLayers.map({ ($0, "sample") }) {
            lines.append(layer.layer.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
                + kind.padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(format: "  %4d  %6.2f %%  %6.2f %%  %6.2f %% (%6.2f)  %6.2f %%", layer.dimension,
                    100 * layer.logisticAccuracy, 100 * layer.nearestNeighbourAccuracy, 100 * layer.boundAccuracy, layer.rateNats,
                    100 * layer.chanceAccuracy))
        }
        lines.append("bound: the largest accuracy any classifier of a sample z_l can reach with Σ_{l'≥l} R_l' nats (Meyen); posterior means are functions of x and may pass it")
        return lines.joined(separator: "\n")
    }
}
