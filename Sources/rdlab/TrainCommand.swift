import ArgumentParser
import Foundation
import Logging
import RDCompute
import RDData
import RDLab

extension Binarization: ExpressibleByArgument {}
extension LearningRateSchedule.Kind: ExpressibleByArgument {}

/// `rdlab train`: the convolutional β-VAE or Echo autoencoder on a dataset, with checkpoints,
/// metrics and images.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a β-VAE of Alemi's twelve families (or an Echo autoencoder) and record rate and distortion (nats) per epoch.",
        discussion: """
            Writes OUT/config.json, OUT/metrics.jsonl (train and test R, D, −ELBO per epoch), \
            OUT/checkpoint.safetensors (every epoch, atomically, and on SIGINT/SIGTERM), and \
            OUT/reconstructions.png / OUT/samples.png. --resume OUT continues a run from its checkpoint \
            (--epochs and --max-steps may be raised). Objective: mean over the batch of D + β·R, where R is \
            the KL to N(0, I) (--channel gaussian), the exact Echo rate −Σ log s (--channel echo), or the \
            single-sample Monte Carlo log e(z|x) − log m(z) with --encoder iaf or a learned --marginal. \
            --encoder gaussian|iaf, --decoder deconv|pixelcnn and --marginal normal|maf|vamp pick one of Alemi's \
            twelve families, tagged in config.json and metrics as e.g. -+v (encoder, decoder, marginal).
            """)

    @OptionGroup var selection: BackendOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "binarized-mnist | mnist | fashion-mnist") var dataset = "binarized-mnist"
    @Option(help: "Folder holding the dataset (or <dir>/<dataset>/); see README for the search order.") var dataDir: String?
    @Option(help: "dynamic | threshold | none (default: none for binarized-mnist, dynamic otherwise).") var binarize: Binarization?
    @Option(help: "Latent dimensions.") var latentDim = 32
    @Option(help: "Hidden nonlinearity: relu (Echo) | gated (Alemi) | softplus | tanh.") var activation = "relu"
    @Flag(help: "Feed 2x − 1 to the encoder (Alemi).") var symmetricInputs = false
    @Option(help: "gaussian (β-VAE: reparameterised Gaussian, KL rate) | echo (Echo noise, exact rate).") var channel = "gaussian"
    @Option(help: "Echo: terms d of the noise sum; the clip factor is solved for it (default: batch size − 1).") var echoTerms: Int?
    @Option(help: "Echo: index tables drawn without (the paper) or with replacement.") var echoReplacement = "without"
    @Option(help: "Gaussian channel's encoder: gaussian (diagonal) | iaf (mean-only IAF, Monte Carlo rate).") var encoder = "gaussian"
    @Option(help: "Marginal of the rate: normal (N(0, I)) | maf (mean-only MAF) | vamp (VampPrior); learned ones use a Monte Carlo rate.") var marginal = "normal"
    @Option(help: "Decoder: deconv (deconvolutional Bernoulli) | pixelcnn (autoregressive PixelCNN++-style; samples take 784 passes).") var decoder = "deconv"
    @Option(help: "VampPrior: mixture components (learned pseudo-inputs).") var vampComponents = 500
    @Option(help: "PixelCNN decoder: channels of every layer.") var pixelcnnFeatures = 64
    @Option(help: "PixelCNN decoder: gated resnets per block.") var pixelcnnResnets = 2
    @Option(help: "IAF and MAF: MADE steps.") var flowSteps = 4
    @Option(help: "IAF and MAF: hidden sizes of each MADE, comma-separated (each divisible by --latent-dim).") var madeHidden = "640,640,640"
    @Option(help: "β of D + β·R.") var beta: Float = 1
    @Option(help: "Anneal β linearly from 0 over this many steps (0 = constant).") var klAnnealSteps = 0
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Stop after this many steps in total.") var maxSteps: Int?
    @Option(help: "Use only the first N training examples.") var trainLimit: Int?
    @Option(help: "Evaluate on only the first N test examples.") var testLimit: Int?
    @Option(help: "Batch size.") var batchSize = 100
    @Option(help: "Adam learning rate.") var lr: Float = 3e-4
    @Option(help: "constant | alemi (constant for the first half, then linear to 0).") var lrSchedule = LearningRateSchedule.Kind.constant
    @Flag(help: "Normalise each gradient tensor by its L2 norm before Adam (Alemi F.4).") var normalizeGradients = false
    @Option(help: "Seed of initialisation, batching, binarisation and noise.") var seed: UInt64 = 0
    @Option(help: "Run directory (default runs/<dataset>-<date>).") var out: String?
    @Option(help: "Continue the run in this directory from its checkpoint.") var resume: String?
    @Option(help: "Test examples per image grid (reconstructions.png, samples.png); 0 writes none. A PixelCNN decoder draws its samples pixel by pixel (784 passes per grid).") var imageColumns = 10

    /// `--made-hidden` as sizes, nil when it does not parse.
    var hiddenSizes: [Int]? {
        let sizes = madeHidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return sizes.isEmpty || sizes.contains(nil) ? nil : sizes.compactMap { $0 }
    }

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard imageColumns >= 0 else { throw ValidationError("--image-columns must be 0 (no images) or more") }
        guard latentDim > 0 else { throw ValidationError("--latent-dim must be positive") }
        guard Activation(rawValue: activation) != nil, activation != "linear", activation != "sigmoid" else {
            throw ValidationError("--activation '\(activation)': use relu, gated, softplus or tanh")
        }
        guard DatasetCatalog.names.contains(dataset) else {
            throw ValidationError("--dataset '\(dataset)': valid datasets are \(DatasetCatalog.names.joined(separator: ", "))")
        }
        if resume != nil && out != nil { throw ValidationError("--resume continues in its own directory; drop --out") }
        guard let channel = VAEConfiguration.Channel(rawValue: channel) else {
            throw ValidationError("--channel '\(channel)': use gaussian or echo")
        }
        guard let encoder = VAEConfiguration.Encoder(rawValue: encoder) else {
            throw ValidationError("--encoder '\(self.encoder)': use gaussian or iaf")
        }
        guard let marginal = VAEConfiguration.Marginal(rawValue: marginal) else {
            throw ValidationError("--marginal '\(self.marginal)': use normal, maf or vamp")
        }
        if marginal != .normal && channel != .gaussian {
            throw ValidationError("--marginal \(marginal.rawValue) needs --channel gaussian (Echo's rate is exact)")
        }
        guard VAEConfiguration.Decoder(rawValue: decoder) != nil else {
            throw ValidationError("--decoder '\(decoder)': use deconv or pixelcnn")
        }
        guard vampComponents >= 1 else { throw ValidationError("--vamp-components must be at least 1") }
        guard pixelcnnFeatures >= 1, pixelcnnResnets >= 1 else {
            throw ValidationError("--pixelcnn-features and --pixelcnn-resnets must be at least 1")
        }
        if encoder == .iaf || marginal == .maf {
            guard channel == .gaussian else { throw ValidationError("--encoder iaf needs --channel gaussian") }
            guard flowSteps >= 1 else { throw ValidationError("--flow-steps must be at least 1") }
            guard hiddenSizes?.allSatisfy({ $0 > 0 && $0 % latentDim == 0 }) == true else {
                throw ValidationError("--made-hidden '\(madeHidden)': give comma-separated sizes, each a multiple of --latent-dim \(latentDim)")
            }
        }
        guard let sampling = EchoIndexTable.Sampling(rawValue: echoReplacement) else {
            throw ValidationError("--echo-replacement '\(echoReplacement)': use with or without")
        }
        if channel == .echo {
            let terms = echoTerms ?? batchSize - 1
            guard terms >= 1 else {
                throw ValidationError("--channel echo needs at least one noise term: use --batch-size 2 or more, or --echo-terms ≥ 1")
            }
            if sampling == .withoutReplacement && terms > batchSize - 1 {
                throw ValidationError("--echo-terms \(terms) without replacement needs --batch-size \(terms + 1) or more (or --echo-replacement with)")
            }
        } else if echoTerms != nil {
            throw ValidationError("--echo-terms applies to --channel echo only")
        }
    }

    /// Settings from the flags, or from the resumed run's config (where --epochs/--max-steps may raise the budget).
    func settings(resumed: RunSettings?) -> RunSettings {
        if var saved = resumed {
            if let epochs { saved.epochs = epochs }
            if let maxSteps { saved.maxSteps = maxSteps }
            return saved
        }
        let binarization = binarize ?? (dataset == "binarized-mnist" ? .none : .dynamic)
        return RunSettings(dataset: dataset, binarize: binarization.rawValue,
            model: VAEConfiguration(latentDimension: latentDim, activation: Activation(rawValue: activation)!,
                symmetricInputs: symmetricInputs, channel: VAEConfiguration.Channel(rawValue: channel)!,
                echoTerms: echoTerms ?? batchSize - 1, echoReplacement: EchoIndexTable.Sampling(rawValue: echoReplacement)!,
                encoder: VAEConfiguration.Encoder(rawValue: encoder)!, flowSteps: flowSteps, madeHidden: hiddenSizes ?? [],
                marginal: VAEConfiguration.Marginal(rawValue: marginal)!, decoder: VAEConfiguration.Decoder(rawValue: decoder)!,
                vampComponents: vampComponents, pixelcnnFeatures: pixelcnnFeatures, pixelcnnResnets: pixelcnnResnets),
            beta: beta, klAnnealSteps: klAnnealSteps, epochs: epochs ?? 10, maxSteps: maxSteps, trainLimit: trainLimit,
            testLimit: testLimit, batchSize: batchSize, learningRate: lr, learningRateSchedule: lrSchedule,
            normalizeGradients: normalizeGradients, seed: seed)
    }

    func run() throws {
        let logger = logging.bootstrap()
        let directory: RunDirectory
        var resumed: RunDirectory.Config?
        if let resume {
            directory = RunDirectory(url: URL(fileURLWithPath: resume))
            resumed = try directory.readConfig()
            guard FileManager.default.fileExists(atPath: directory.checkpoint.path) else {
                throw CleanExit.failure("\(directory.checkpoint.path) not found: nothing to resume from")
            }
        } else {
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate, .withTime])
            directory = RunDirectory(url: URL(fileURLWithPath: out ?? "runs/\(dataset)-\(stamp)"))
            if FileManager.default.fileExists(atPath: directory.checkpoint.path) {
                throw CleanExit.failure("\(directory.url.path) already holds a run; use --resume \(directory.url.path) or another --out")
            }
        }
        var settings = self.settings(resumed: resumed?.settings)
        let selection = try self.selection.select(logger: logger)
        let backend = selection.backend
        let locator = DataLocator(dataDirectory: dataDir)
        let binarization = Binarization(rawValue: settings.binarize) ?? .none
        var train: Dataset, test: Dataset
        do {
            train = try locator.load(settings.dataset, split: "train")
            test = try locator.load(settings.dataset, split: "test")
        } catch let error as DataError {
            throw CleanExit.failure(error.description)
        }
        if let limit = settings.trainLimit { train = train.prefix(limit) }
        if let limit = settings.testLimit { test = test.prefix(limit) }
        logger.info("data: \(settings.dataset) train \(train.count), test \(test.count) from \(train.files[0]) (binarize \(binarization.rawValue))")

        let sampler = BatchSampler(count: train.count, batchSize: settings.batchSize, seed: settings.seed, dropLast: false)
        let stepsPerEpoch = sampler.batchesPerEpoch
        let plannedSteps = min(settings.epochs * stepsPerEpoch, settings.maxSteps ?? Int.max)
        let model = try ConvAutoencoder(settings.model, backend: backend, seed: settings.seed)
        let optimizer = Adam(backend: backend, hyperparameters: AdamParameters(learningRate: settings.learningRate),
            normalizeGradients: settings.normalizeGradients)
        var startStep = 0
        if resumed != nil {
            do {
                startStep = try Checkpoint.restore(from: directory.checkpoint, into: model, optimizer: optimizer).step
            } catch {
                throw CleanExit.failure("\(error)")
            }
            logger.info("resuming \(directory.url.path) at step \(startStep)")
        }
        let trainer = VAETrainer(model: model, optimizer: optimizer,
            beta: BetaSchedule(beta: settings.beta, annealSteps: settings.klAnnealSteps),
            learningRate: LearningRateSchedule(kind: settings.learningRateSchedule, learningRate: settings.learningRate,
                totalSteps: plannedSteps),
            seed: settings.seed, step: startStep)
        let device = backend.device
        settings.testNoise = model.channel.testNoiseDescription
            + (model.marginal == nil ? "" : "; the rate is log e(z|x) − log m(z) under the "
                + (model.marginal is VampPrior ? "VampPrior" : "MAF") + " marginal, one Monte Carlo sample")
        settings.family = settings.model.family
        if let family = settings.family {
            logger.info("model: family \(family) (encoder \(settings.model.encoder), decoder \(settings.model.decoder), marginal \(settings.model.marginal))")
        }
        let rateFloor = model.channel.rateFloor
        if let echo = model.channel as? EchoChannel, let rateFloor {
            logger.info("echo channel: \(echo.terms) terms \(echo.sampling.rawValue) replacement, clip r = \(String(format: "%.6f", echo.clip)), rate floor \(String(format: "%.3f", rateFloor)) nats")
        }
        try directory.writeConfig(RunDirectory.Config(settings: settings, provenance: RunProvenance(
            backendRequested: selection.requested.description, backendUsed: device.selector, device: device.name,
            driver: device.driverVersion, fallbackReason: selection.fallbackReason, rdlabVersion: RDLab.version,
            rdlabCommit: resumed?.provenance.rdlabCommit ?? currentCommit(),
            started: resumed?.provenance.started ?? ISO8601DateFormatter().string(from: Date()))))
        logger.info("run directory \(directory.url.path): \(plannedSteps) steps, \(stepsPerEpoch) per epoch")

        StopSignal.install()
        var progress = Progress(total: plannedSteps, alreadyDone: startStep)
        func save(epoch: Int) throws {
            try Checkpoint(step: trainer.step, epoch: epoch, configuration: settings.model)
                .save(model: model, optimizer: optimizer, to: directory.checkpoint)
        }
        var epoch = startStep / stepsPerEpoch
        while trainer.step < plannedSteps {
            let started = Date()
            var sums = RateDistortion(rate: 0, distortion: 0)
            var examples = 0
            let batches = sampler.batches(epoch: epoch)
            for indices in batches.dropFirst(trainer.step - epoch * stepsPerEpoch) where trainer.step < plannedSteps {
                let images = train.batch(indices, binarization: binarization, seed: settings.seed, epoch: epoch)
                let stats: RateDistortion
                do {
                    stats = try trainer.train(images, batch: indices.count)
                } catch let error as NonFiniteLoss {
                    progress.finishLine()
                    throw stopped(error, directory)
                }
                sums.rate += stats.rate * Double(indices.count)
                sums.distortion += stats.distortion * Double(indices.count)
                examples += indices.count
                progress.update(step: trainer.step, epoch: epoch, epochs: settings.epochs, rate: sums.rate / Double(examples),
                    distortion: sums.distortion / Double(examples))
                if let signal = StopSignal.pending {
                    progress.finishLine()
                    try save(epoch: epoch)
                    logger.notice("signal \(signal): checkpoint written at step \(trainer.step) to \(directory.checkpoint.path); resume with --resume \(directory.url.path)")
                    throw ExitCode(128 + signal)
                }
            }
            progress.finishLine()
            let seconds = Date().timeIntervalSince(started)
            let evaluated = try evaluate(trainer, test, binarization: binarization, settings: settings)
            guard evaluated.0.rate.isFinite, evaluated.0.distortion.isFinite else {
                let term = evaluated.0.distortion.isFinite ? "test-set rate" : "test-set distortion"
                throw stopped(NonFiniteLoss(step: trainer.step, term: term), directory)
            }
            let betaNow = trainer.beta.value(at: max(trainer.step - 1, 0))
            let trainLine = RunDirectory.Metrics(epoch: epoch + 1, step: trainer.step, split: "train",
                rateNats: sums.rate / Double(max(examples, 1)), distortionNats: sums.distortion / Double(max(examples, 1)),
                negElboNats: (sums.rate + sums.distortion) / Double(max(examples, 1)), beta: betaNow, seconds: seconds,
                examplesPerSecond: Double(examples) / max(seconds, 1e-9), rateFloorNats: rateFloor,
                family: settings.family)
            let testLine = RunDirectory.Metrics(epoch: epoch + 1, step: trainer.step, split: "test", rateNats: evaluated.0.rate,
                distortionNats: evaluated.0.distortion, negElboNats: evaluated.0.negativeELBO, beta: betaNow,
                seconds: evaluated.1, examplesPerSecond: Double(test.count) / max(evaluated.1, 1e-9), rateFloorNats: rateFloor,
                family: settings.family)
            try directory.append([trainLine, testLine])
            try save(epoch: epoch + 1)
            if imageColumns > 0 { try writeImages(model, test, binarization: binarization, settings: settings, to: directory) }
            let summary = String(format: "epoch %d: train R %.2f D %.2f −ELBO %.2f | test R %.2f D %.2f −ELBO %.2f nats (%.0f ex/s)",
                epoch + 1, trainLine.rateNats, trainLine.distortionNats, trainLine.negElboNats, testLine.rateNats,
                testLine.distortionNats, testLine.negElboNats, trainLine.examplesPerSecond)
            logger.info("\(summary)")
            epoch += 1
        }
        print("run \(directory.url.path): \(trainer.step) steps; metrics in \(directory.metrics.path)")
    }

    /// `--image-columns` examples across the test set, then the first test examples: a batch
    /// for the channel (Echo noise comes from the other members).
    func writeImages(_ model: ConvAutoencoder, _ test: Dataset, binarization: Binarization, settings: RunSettings,
        to directory: RunDirectory) throws {
        let shown = min(imageColumns, test.count)
        let spread = (0..<shown).map { $0 * test.count / shown }
        let display = test.batch(spread + (0..<min(test.count, max(0, settings.batchSize - shown))).map { $0 },
            binarization: binarization, seed: settings.seed, epoch: 0)
        try ImageGrids.reconstructions(model, batch: display, count: shown, seed: settings.seed).write(to: directory.reconstructions)
        try ImageGrids.samples(model, pool: display, count: shown, seed: settings.seed).write(to: directory.samples)
    }

    /// The error for a non-finite loss, naming the step, the term and the last good checkpoint
    /// (the one on disk: the current state is not saved over it).
    func stopped(_ error: NonFiniteLoss, _ directory: RunDirectory) -> CleanExit {
        let last = FileManager.default.fileExists(atPath: directory.checkpoint.path)
            ? "last good checkpoint: \(directory.checkpoint.path)" : "no checkpoint was written yet"
        return CleanExit.failure("\(error); stopping (\(last)); try a lower --lr or --normalize-gradients")
    }

    /// Test-set R and D: batches in order, binarised with the run's seed (epoch 0), fixed noise.
    func evaluate(_ trainer: VAETrainer, _ test: Dataset, binarization: Binarization, settings: RunSettings) throws
        -> (RateDistortion, TimeInterval) {
        try EvalCommand.evaluate(trainer, test, binarization: binarization, seed: settings.seed, batchSize: settings.batchSize)
    }
}
