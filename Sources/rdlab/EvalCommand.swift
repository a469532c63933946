import ArgumentParser
import Foundation
import Logging
import RDCompute
import RDData
import RDLab

/// `rdlab eval`: test-set rate, distortion and −ELBO of a trained model, on any backend.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test-set R, D and −ELBO (nats per example) of a run or checkpoint.")

    @OptionGroup var selection: BackendOptions
    @OptionGroup var logging: LoggingOptions
    @Option(name: .customLong("run"), help: "A run directory written by rdlab train.") var runDirectory: String?
    @Option(help: "A checkpoint file (with --dataset when it is not binarized-mnist).") var checkpoint: String?
    @Option(help: "Dataset for --checkpoint (a run directory knows its own).") var dataset = "binarized-mnist"
    @Option(help: "Folder holding the dataset.") var dataDir: String?
    @Option(help: "Evaluate on only the first N test examples.") var testLimit: Int?
    @Option(help: "Batch size.") var batchSize = 100

    func validate() throws {
        guard (runDirectory == nil) != (checkpoint == nil) else { throw ValidationError("give exactly one of --run DIR or --checkpoint FILE") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1 (got \(testLimit))") }
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
        let model = try ConvAutoencoder(header.configuration, backend: backend, seed: settings?.seed ?? 0)
        _ = try Checkpoint.restore(from: file, into: model, optimizer: nil)
        let name = settings?.dataset ?? dataset
        var test: Dataset
        do {
            test = try DataLocator(dataDirectory: dataDir).load(name, split: "test")
        } catch let error as DataError {
            throw CleanExit.failure(error.description)
        }
        if let limit = testLimit ?? settings?.testLimit { test = test.prefix(limit) }
        let binarization = try settings.map { try Binarization(named: $0.binarize) } ?? DatasetCatalog.entry(name).defaultBinarization
        let trainer = VAETrainer(model: model, optimizer: Adam(backend: backend), beta: BetaSchedule(beta: 1),
            learningRate: LearningRateSchedule(kind: .constant, learningRate: 0, totalSteps: 1), seed: settings?.seed ?? 0)
        StopSignal.install()
        let result: RateDistortion, seconds: TimeInterval
        do {
            (result, seconds) = try Self.evaluate(trainer, test, binarization: binarization, seed: settings?.seed ?? 0,
                batchSize: batchSize)
        } catch let interruption as Interrupted {
            throw ExitCode(128 + interruption.signal)
        }
        print(String(format: "%@ test (%d examples, step %d, %@): R %.3f  D %.3f  −ELBO %.3f nats  (%.1f s)", name, test.count,
            header.step, backend.device.selector, result.rate, result.distortion, result.negativeELBO, seconds))
        if let echo = model.channel as? EchoChannel, let floor = echo.rateFloor {
            print(String(format: "channel echo: R is the exact rate −Σ log s (floor %.3f nats, clip r = %.6f); each test batch of %d builds its own noise",
                floor, echo.clip, batchSize))
        }
    }

    /// Means over the test set in batch order; each batch has a fixed noise stream. Throws
    /// ``Interrupted`` between batches once SIGINT or SIGTERM has arrived.
    static func evaluate(_ trainer: VAETrainer, _ test: Dataset, binarization: Binarization, seed: UInt64, batchSize: Int)
        throws -> (RateDistortion, TimeInterval) {
        let started = Date()
        var sums = RateDistortion(rate: 0, distortion: 0)
        for (index, first) in stride(from: 0, to: test.count, by: batchSize).enumerated() {
            try StopSignal.check()
            let indices = first..<min(first + batchSize, test.count)
            let images = test.batch(indices, binarization: binarization, seed: seed, epoch: 0)
            let result = try trainer.evaluate(images, batch: indices.count, index: index)
            sums.rate += result.rate * Double(indices.count)
            sums.distortion += result.distortion * Double(indices.count)
        }
        let n = Double(max(test.count, 1))
        return (RateDistortion(rate: sums.rate / n, distortion: sums.distortion / n), Date().timeIntervalSince(started))
    }
}
