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
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        guard imageColumns >= 0 else { throw ValidationError("--image-columns must be 0 (no images) or more") }
        if let resume {
            if out != nil { throw ValidationError("--resume continues in its own directory; drop --out") }
            guard !resume.isEmpty else { throw ValidationError("--resume needs a run directory") }
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
            if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1 (got \(maxSteps))") }
            return
        }
        guard Activation(rawValue: activation) != nil, activation != "linear", activation != "sigmoid" else {
            throw ValidationError("--activation '\(activation)': use relu, gated, softplus or tanh")
        }
        guard DatasetCatalog.names.contains(dataset) else {
            throw ValidationError("--dataset '\(dataset)': valid datasets are \(DatasetCatalog.names.joined(separator: ", "))")
        }
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
        if encoder == .iaf || marginal == .maf {
            guard channel == .gaussian else { throw ValidationError("--encoder iaf needs --channel gaussian") }
            guard hiddenSizes != nil else {
                throw ValidationError("--made-hidden '\(madeHidden)': give comma-separated sizes, each a multiple of --latent-dim \(latentDim)")
            }
        }
        guard EchoIndexTable.Sampling(rawValue: echoReplacement) != nil else {
            throw ValidationError("--echo-replacement '\(echoReplacement)': use with or without")
        }
        if channel == .echo {
            guard (echoTerms ?? batchSize - 1) >= 1 else {
                throw ValidationError("--channel echo needs at least one noise term: use --batch-size 2 or more, or --echo-terms ≥ 1")
            }
        } else if echoTerms != nil {
            throw ValidationError("--echo-terms applies to --channel echo only")
        }
        if let problem = settings(resumed: nil).problem() { throw ValidationError("\(problem.setting.flag) \(problem.reason)") }
    }

    /// Settings from the flags, or from the resumed run's config (where --epochs/--max-steps may raise the budget).
    func settings(resumed: RunSettings?) -> RunSettings {
        if var saved = resumed {
            if let epochs { saved.epochs = epochs }
            if let maxSteps { saved.maxSteps = maxSteps }
            return saved
        }
        let binarization = binarize ?? ((try? DatasetCatalog.entry(dataset))?.defaultBinarization ?? .dynamic)
        return RunSettings(dataset: dataset, binarize: binarization.rawValue,
            model: VAEConfiguration(latentDimension: latentDim, activation: Activation(rawValue: activation) ?? .relu,
                symmetricInputs: symmetricInputs, channel: VAEConfiguration.Channel(rawValue: channel) ?? .gaussian,
                echoTerms: echoTerms ?? batchSize - 1,
                echoReplacement: EchoIndexTable.Sampling(rawValue: echoReplacement) ?? .withoutReplacement,
                encoder: VAEConfiguration.Encoder(rawValue: encoder) ?? .gaussian, flowSteps: flowSteps,
                madeHidden: hiddenSizes ?? [], marginal: VAEConfiguration.Marginal(rawValue: marginal) ?? .normal,
                decoder: VAEConfiguration.Decoder(rawValue: decoder) ?? .deconv, vampComponents: vampComponents,
                pixelcnnFeatures: pixelcnnFeatures, pixelcnnResnets: pixelcnnResnets),
            beta: beta, klAnnealSteps: klAnnealSteps, epochs: epochs ?? 10, maxSteps: maxSteps, trainLimit: trainLimit,
            testLimit: testLimit, batchSize: batchSize, learningRate: lr, learningRateSchedule: lrSchedule,
            normalizeGradients: normalizeGradients, seed: seed)
    }

    func run() throws {
        let logger = logging.bootstrap()
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate, .withTime])
        let directory = RunDirectory(url: URL(fileURLWithPath: resume ?? out ?? "runs/\(dataset)-\(stamp)"))
        if resume != nil && !FileManager.default.fileExists(atPath: directory.config.path) {
            throw CleanExit.failure("\(directory.config.path) not found: is \(directory.url.path) an rdlab run directory?")
        }
        let lock = try RunLock(directory: directory.url)
        defer { withExtendedLifetime(lock) {} }
        if let previous = lock.previousHolder {
            logger.notice("\(directory.url.path): taking over the lock of \(previous), which is no longer running")
        }
        let removed = try directory.removeInterruptedWrites()
        if !removed.isEmpty {
            logger.notice("\(directory.url.path): removed \(removed.count) temporary file(s) of an interrupted save (\(removed.joined(separator: ", ")))")
        }
        let resumed = resume == nil ? nil
            : try directory.readConfig(datasets: DatasetCatalog.names, binarizations: Binarization.allCases.map(\.rawValue))
        let hasCheckpoint = FileManager.default.fileExists(atPath: directory.checkpoint.path)
        if resumed != nil && !hasCheckpoint {
            throw CleanExit.failure("\(directory.checkpoint.path) not found: nothing to resume from")
        }
        if resumed == nil && hasCheckpoint {
            throw CleanExit.failure("\(directory.url.path) already holds a run; use --resume \(directory.url.path) or another --out")
        }
        // A new run writes its first checkpoint before its first metrics line, so metrics
        // without a checkpoint are not a run rdlab can continue: they are left alone.
        if resumed == nil, let size = try? FileManager.default.attributesOfItem(atPath: directory.metrics.path)[.size] as? Int, size > 0 {
            throw CleanExit.failure("\(directory.url.path) holds \(directory.metrics.lastPathComponent) but no checkpoint; use another --out (or move those files away)")
        }
        var settings = self.settings(resumed: resumed?.settings)
        if let problem = settings.problem() {  // --epochs or --max-steps raised past their bounds on --resume
            throw ValidationError("\(problem.setting.flag) \(problem.reason)")
        }
        let selection = try self.selection.select(logger: logger)
        let backend = selection.backend
        let locator = DataLocator(dataDirectory: dataDir)
        let binarization = try Binarization(named: settings.binarize)
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
        guard train.count > 0, test.count > 0 else {
            let empty = train.count == 0 ? train : test
            throw CleanExit.failure("\(empty.files[0]): the \(empty.split) split holds no examples")
        }
        try MemoryCheck.check(try StepMemory.estimate(settings.model, backend: backend),
            batch: min(settings.batchSize, train.count), device: backend.device, logger: logger)

        let sampler = BatchSampler(count: train.count, batchSize: settings.batchSize, seed: settings.seed, dropLast: false)
        let stepsPerEpoch = sampler.batchesPerEpoch
        let plannedSteps = min(settings.epochs * stepsPerEpoch, settings.maxSteps ?? Int.max)  // both bounded: no overflow
        let model = try ConvAutoencoder(settings.model, backend: backend, seed: settings.seed)
        let optimizer = Adam(backend: backend, hyperparameters: AdamParameters(learningRate: settings.learningRate),
            normalizeGradients: settings.normalizeGradients)
        var state = Checkpoint(step: 0, epoch: 0, configuration: settings.model)
        if resumed != nil {
            state = try Checkpoint.restore(from: directory.checkpoint, into: model, optimizer: optimizer)
            guard state.configuration == settings.model else {
                throw CleanExit.failure("\(directory.checkpoint.path) holds a different model than \(directory.config.path); restore the matching pair")
            }
            if state.adoptLegacyBudgetStop(stepsPerEpoch: stepsPerEpoch) {
                logger.notice("\(directory.checkpoint.path) (format 1) ended inside epoch \(state.epoch + 1) on --max-steps: that epoch's lines are dropped and written again when it ends; its train figures cover the steps from here on")
            }
            guard state.fits(stepsPerEpoch: stepsPerEpoch) else {
                throw CleanExit.failure("\(directory.checkpoint.path): step \(state.step) does not lie in epoch \(state.epoch + 1) of \(stepsPerEpoch) steps: the training set (\(train.count) examples from \(train.files[0]), batch \(settings.batchSize)) is not the one the run started with, or config.json was edited")
            }
            logger.info("resuming \(directory.url.path) at step \(state.step)")
        }
        let dropped = try directory.keepMetrics(lines: state.metricsLines)
        if dropped > 0 {
            logger.notice("\(directory.metrics.path): dropped \(dropped) line(s) past the last checkpoint (an epoch that was not committed)")
        }
        let trainer = VAETrainer(model: model, optimizer: optimizer,
            beta: BetaSchedule(beta: settings.beta, annealSteps: settings.klAnnealSteps),
            learningRate: LearningRateSchedule(kind: settings.learningRateSchedule, learningRate: settings.learningRate,
                totalSteps: plannedSteps),
            seed: settings.seed, step: state.step)
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
        var progress = Progress(total: plannedSteps, alreadyDone: state.step)
        func save() throws {
            state.step = trainer.step
            try state.save(model: model, optimizer: optimizer, to: directory.checkpoint)
        }
        if resumed == nil { try save() }  // a run directory always holds a checkpoint once it holds metrics
        /// Stops for a signal: saves the state first unless the last commit already holds it.
        func stop(_ signal: Int32, saving: Bool) throws -> Never {
            progress.finishLine()
            if saving {
                try save()
                logger.notice("signal \(signal): checkpoint written at step \(trainer.step) to \(directory.checkpoint.path); resume with --resume \(directory.url.path)")
            } else {
                logger.notice("signal \(signal): the checkpoint of step \(trainer.step) in \(directory.checkpoint.path) is complete; resume with --resume \(directory.url.path)")
            }
            throw ExitCode(128 + signal)
        }
        // An epoch whose training is done (or was cut short by the step budget) but that is not
        // committed has examples in its totals: it is evaluated before anything else.
        while trainer.step < plannedSteps || state.epochTotals.examples > 0 {
            let started = Date()
            let batches = sampler.batches(epoch: state.epoch)
            for indices in batches.dropFirst(trainer.step - state.epoch * stepsPerEpoch) where trainer.step < plannedSteps {
                let images = train.batch(indices, binarization: binarization, seed: settings.seed, epoch: state.epoch)
                let stats: RateDistortion
                do {
                    stats = try trainer.train(images, batch: indices.count)
                } catch let error as NonFiniteLoss {
                    progress.finishLine()
                    throw stopped(error, directory)
                }
                state.epochTotals.rate += stats.rate * Double(indices.count)
                state.epochTotals.distortion += stats.distortion * Double(indices.count)
                state.epochTotals.examples += indices.count
                let examples = Double(state.epochTotals.examples)
                progress.update(step: trainer.step, epoch: state.epoch, epochs: settings.epochs,
                    rate: state.epochTotals.rate / examples, distortion: state.epochTotals.distortion / examples)
                if let signal = StopSignal.pending {
                    state.epochTotals.seconds += Date().timeIntervalSince(started)
                    try stop(signal, saving: true)
                }
            }
            state.epochTotals.seconds += Date().timeIntervalSince(started)
            progress.finishLine()
            logger.info("epoch \(state.epoch + 1): evaluating on \(test.count) test examples")
            let evaluated: (RateDistortion, TimeInterval)
            do {
                evaluated = try evaluate(trainer, test, binarization: binarization, settings: settings)
            } catch let interruption as Interrupted {
                try stop(interruption.signal, saving: true)
            }
            guard evaluated.0.rate.isFinite, evaluated.0.distortion.isFinite else {
                let term = evaluated.0.distortion.isFinite ? "test-set rate" : "test-set distortion"
                throw stopped(NonFiniteLoss(step: trainer.step, term: term), directory)
            }
            let totals = state.epochTotals
            let examples = Double(max(totals.examples, 1))
            guard (totals.rate / examples).isFinite, (totals.distortion / examples).isFinite else {
                throw stopped(NonFiniteLoss(step: trainer.step, term: "train-set totals"), directory)
            }
            let betaNow = trainer.beta.value(at: max(trainer.step - 1, 0))
            let trainLine = RunDirectory.Metrics(epoch: state.epoch + 1, step: trainer.step, split: .train,
                rateNats: totals.rate / examples, distortionNats: totals.distortion / examples,
                negElboNats: (totals.rate + totals.distortion) / examples, beta: betaNow, seconds: totals.seconds,
                examplesPerSecond: Double(totals.examples) / max(totals.seconds, 1e-9), rateFloorNats: rateFloor,
                family: settings.family)
            let testLine = RunDirectory.Metrics(epoch: state.epoch + 1, step: trainer.step, split: .test,
                rateNats: evaluated.0.rate, distortionNats: evaluated.0.distortion, negElboNats: evaluated.0.negativeELBO,
                beta: betaNow, seconds: evaluated.1, examplesPerSecond: Double(test.count) / max(evaluated.1, 1e-9),
                rateFloorNats: rateFloor, family: settings.family)
            // The commit: the lines, then the checkpoint that covers them. An epoch cut short by
            // the step budget stays open: its lines are provisional (the checkpoint does not cover
            // them, so a resume with a larger budget replaces them) and the run ends here.
            let epochEnded = trainer.step % stepsPerEpoch == 0
            let lines = try directory.append([trainLine, testLine])
            if epochEnded {
                state.metricsLines = lines
                state.epoch += 1
                state.epochTotals = EpochTotals()
            }
            do {
                try save()
            } catch {
                // Keep the lines the checkpoint on disk covers (the old one, or the new one if
                // only the flush after its rename failed).
                if let onDisk = try? Checkpoint.header(of: directory.checkpoint).checkpoint.metricsLines {
                    _ = try? directory.keepMetrics(lines: onDisk)
                }
                throw error
            }
            if imageColumns > 0 {
                if model.decoder.isAutoregressive {
                    logger.info("epoch \(trainLine.epoch): drawing the image grids pixel by pixel (784 passes each)")
                }
                do {
                    try writeImages(model, test, binarization: binarization, settings: settings, to: directory)
                } catch let interruption as Interrupted {
                    try stop(interruption.signal, saving: false)
                }
            }
            let summary = String(format: "epoch %d: train R %.2f D %.2f −ELBO %.2f | test R %.2f D %.2f −ELBO %.2f nats (%.0f ex/s)",
                trainLine.epoch, trainLine.rateNats, trainLine.distortionNats, trainLine.negElboNats, testLine.rateNats,
                testLine.distortionNats, testLine.negElboNats, trainLine.examplesPerSecond)
            logger.info("\(summary)")
            if let signal = StopSignal.pending { try stop(signal, saving: false) }
            if !epochEnded { break }
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
