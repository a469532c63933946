import Foundation
import Logging
import RDCompute

/// A training run in its directory, generic over ``RateDistortionModel``: it builds (or
/// restores) the model, the optimiser and the objective, and runs the epochs — training
/// steps, evaluation, metrics lines, checkpoints, signals and the NaN stop.
///
/// An epoch is committed in two writes: its metrics lines, then the checkpoint that covers
/// them (``RunDirectory``). A new run writes its step-0 checkpoint before anything else; an
/// epoch cut short by `maxSteps` stays open (its lines provisional); a failed save takes back
/// the lines the checkpoint on disk does not cover. SIGINT or SIGTERM saves the state (unless
/// the last commit holds it) and throws ``Interrupted``.
public final class TrainingRun {
    public let directory: RunDirectory
    public let settings: RunSettings
    public let model: any RateDistortionModel
    public let trainer: ModelTrainer
    public let data: any RunData
    /// Steps the run ends at: epochs × steps per epoch, or `maxSteps` if fewer.
    public let plannedSteps: Int
    public private(set) var state: Checkpoint
    let logger: Logger

    /// What the caller sees of the loop.
    public struct Hooks {
        /// After every step: the step count, the epoch in progress and its running means.
        public var progress: (_ step: Int, _ epoch: Int, _ running: RateDistortion) -> Void = { _, _, _ in }
        /// Before a log line or a stop: ends a progress line in place.
        public var pause: () -> Void = {}
        /// After an epoch (or the budget's last part) is committed: images, diagnostics. May
        /// throw ``Interrupted``, which ends the run without another save.
        public var committed: (_ epoch: Int, _ train: RunDirectory.Metrics, _ test: RunDirectory.Metrics) throws -> Void = { _, _, _ in }

        public init() {}
    }

    /// Prepares a new run (`resumed` nil) or the continuation of the run whose config is
    /// `resumed`; the caller holds the directory's ``RunLock``. Restores the checkpoint,
    /// drops uncommitted metrics lines, and writes `config.json` (and a new run's step-0
    /// checkpoint).
    public init(directory: RunDirectory, settings: RunSettings, resumed: RunDirectory.Config?, backend: any Backend,
        data: any RunData, provenance: RunProvenance, logger: Logger) throws {
        self.directory = directory
        self.data = data
        self.logger = logger
        let stepsPerEpoch = data.stepsPerEpoch
        plannedSteps = min(settings.epochs * stepsPerEpoch, settings.maxSteps ?? Int.max)  // both bounded: no overflow
        model = try settings.model.makeModel(backend: backend, seed: settings.seed)
        let optimizer = Adam(backend: backend, hyperparameters: AdamParameters(learningRate: settings.learningRate),
            normalizeGradients: settings.normalizeGradients)
        var state = Checkpoint(step: 0, epoch: 0, model: settings.model)
        if resumed != nil {
            guard try Checkpoint.header(of: directory.checkpoint).checkpoint.model == settings.model else {
                throw TrainingRunError.modelMismatch(checkpoint: directory.checkpoint.path, config: directory.config.path)
            }
            state = try Checkpoint.restore(from: directory.checkpoint, into: model, optimizer: optimizer)
            if state.adoptLegacyBudgetStop(stepsPerEpoch: stepsPerEpoch) {
                logger.notice("\(directory.checkpoint.path) (format 1) ended inside epoch \(state.epoch + 1) on --max-steps: that epoch's lines are dropped and written again when it ends; its train figures cover the steps from here on")
            }
            guard state.fits(stepsPerEpoch: stepsPerEpoch) else {
                throw TrainingRunError.dataChanged(checkpoint: directory.checkpoint.path, step: state.step, epoch: state.epoch,
                    stepsPerEpoch: stepsPerEpoch, data: "\(data.trainingExamples) examples from \(data.source), batch \(settings.batchSize)")
            }
            logger.info("resuming \(directory.url.path) at step \(state.step)")
        }
        let dropped = try directory.keepMetrics(lines: state.metricsLines)
        if dropped > 0 {
            logger.notice("\(directory.metrics.path): dropped \(dropped) line(s) past the last checkpoint (an epoch that was not committed)")
        }
        trainer = ModelTrainer(model: model, optimizer: optimizer, objective: Objective(settings.objective, state: state.objective, stepsPerEpoch: stepsPerEpoch),
            learningRate: LearningRateSchedule(kind: settings.learningRateSchedule, learningRate: settings.learningRate,
                totalSteps: plannedSteps),
            seed: settings.seed, step: state.step, activations: provenance.activationMemory ?? .kept,
            planning: provenance.stepPlanning ?? .replayed, logger: logger)
        var settings = settings
        settings.testNoise = model.testNoiseDescription
        settings.family = settings.model.family
        self.settings = settings
        self.state = state
        try directory.writeConfig(RunDirectory.Config(settings: settings, provenance: provenance))
        logger.info("run directory \(directory.url.path): \(plannedSteps) steps, \(stepsPerEpoch) per epoch")
        if resumed == nil { try save() }  // a run directory always holds a checkpoint once it holds metrics
    }

    func save() throws {
        state.step = trainer.step
        state.objective = trainer.objective.state
        try state.save(model: model, optimizer: trainer.optimizer, to: directory.checkpoint)
    }

    /// Stops for a signal: saves the state first unless the last commit already holds it.
    func stop(_ signal: Int32, saving: Bool, hooks: Hooks) throws -> Never {
        hooks.pause()
        if saving {
            try save()
            logger.notice("signal \(signal): checkpoint written at step \(trainer.step) to \(directory.checkpoint.path); resume with --resume \(directory.url.path)")
        } else {
            logger.notice("signal \(signal): the checkpoint of step \(trainer.step) in \(directory.checkpoint.path) is complete; resume with --resume \(directory.url.path)")
        }
        throw Interrupted(signal: signal)
    }

    /// The error for a non-finite loss, naming the last good checkpoint (the one on disk: the
    /// current state is not saved over it).
    func stopped(_ error: NonFiniteLoss) -> TrainingRunError {
        .nonFinite(error, checkpoint: FileManager.default.fileExists(atPath: directory.checkpoint.path) ? directory.checkpoint.path : nil)
    }

    /// Trains to ``plannedSteps``, committing every epoch.
    public func run(_ hooks: Hooks = Hooks()) throws {
        let stepsPerEpoch = data.stepsPerEpoch
        let layers = model.latentLayers
        // An epoch whose training is done (or was cut short by the step budget) but that is not
        // committed has examples in its totals: it is evaluated before anything else.
        while trainer.step < plannedSteps || state.epochTotals.examples > 0 {
            let started = Date()
            var index = trainer.step - state.epoch * stepsPerEpoch
            while index < stepsPerEpoch && trainer.step < plannedSteps {
                let batch = data.trainingBatch(epoch: state.epoch, index: index)
                let stats: RateDistortion
                do {
                    stats = try trainer.train(batch)
                } catch let error as NonFiniteLoss {
                    hooks.pause()
                    throw stopped(error)
                }
                state.epochTotals.add(stats, examples: batch.count)
                hooks.progress(trainer.step, state.epoch, state.epochTotals.means)
                index += 1
                if let signal = StopSignal.pending {
                    state.epochTotals.seconds += Date().timeIntervalSince(started)
                    try stop(signal, saving: true, hooks: hooks)
                }
            }
            state.epochTotals.seconds += Date().timeIntervalSince(started)
            hooks.pause()
            logger.info("epoch \(state.epoch + 1): evaluating on \(data.testExamples) test examples")
            let evaluated: (RateDistortion, TimeInterval)
            do {
                evaluated = try Evaluator.rateDistortion(trainer, data)
            } catch let interruption as Interrupted {
                try stop(interruption.signal, saving: true, hooks: hooks)
            }
            guard evaluated.0.rate.isFinite, evaluated.0.distortion.isFinite else {
                throw stopped(NonFiniteLoss(step: trainer.step, term: evaluated.0.distortion.isFinite ? "test-set rate" : "test-set distortion"))
            }
            let totals = state.epochTotals
            let train = totals.means
            guard train.rate.isFinite, train.distortion.isFinite else {
                throw stopped(NonFiniteLoss(step: trainer.step, term: "train-set totals"))
            }
            let betas = trainer.lastBetas
            let betasByLayer = settings.objective.isConstant ? nil : Dictionary(uniqueKeysWithValues: zip(layers, betas))
            func line(_ split: RunDirectory.Metrics.Split, _ figures: RateDistortion, seconds: Double, examples: Int,
                minimumRate: Double? = nil) -> RunDirectory.Metrics {
                RunDirectory.Metrics(epoch: state.epoch + 1, step: trainer.step, split: split, rateNats: figures.rate,
                    ratesNats: Dictionary(uniqueKeysWithValues: zip(layers, figures.layerRates)), distortionNats: figures.distortion,
                    negElboNats: figures.negativeELBO, beta: betas[0], betas: betasByLayer, seconds: seconds,
                    examplesPerSecond: Double(examples) / max(seconds, 1e-9), rateFloorNats: model.rateFloor,
                    batchRateMinNats: model.rateFloor == nil ? nil : minimumRate, rateAuxNats: figures.auxiliaryRate,
                    family: settings.family)
            }
            let trainLine = line(.train, train, seconds: totals.seconds, examples: totals.examples, minimumRate: totals.minimumRate)
            let testLine = line(.test, evaluated.0, seconds: evaluated.1, examples: data.testExamples)
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
            do {
                try hooks.committed(trainLine.epoch, trainLine, testLine)
            } catch let interruption as Interrupted {
                try stop(interruption.signal, saving: false, hooks: hooks)
            }
            if let signal = StopSignal.pending { try stop(signal, saving: false, hooks: hooks) }
            if !epochEnded { break }
        }
    }
}

extension ObjectiveSpec {
    /// Whether one constant β weighs every layer at every step (then the metrics carry no
    /// `betas`): no per-layer β of its own, no warm-up.
    var isConstant: Bool {
        guard warmUp == nil, case .constant(let beta) = weight else { return false }
        return layers.values.allSatisfy { $0 == .constant(beta: beta) }
    }
}

extension EpochTotals {
    mutating func add(_ stats: RateDistortion, examples count: Int) {
        // totals of a checkpoint written before per-layer sums (one layer) carry them in `rate`
        if layerRates.isEmpty && examples > 0 && stats.layerRates.count == 1 { layerRates = [rate] }
        rate += stats.rate * Double(count)
        distortion += stats.distortion * Double(count)
        if layerRates.count < stats.layerRates.count {
            layerRates += [Double](repeating: 0, count: stats.layerRates.count - layerRates.count)
        }
        for (l, value) in stats.layerRates.enumerated() { layerRates[l] += value * Double(count) }
        if let value = stats.auxiliaryRate { auxiliaryRate = (auxiliaryRate ?? 0) + value * Double(count) }
        minimumRate = min(minimumRate ?? stats.rate, stats.rate)
        examples += count
    }

    /// The means of the steps so far.
    var means: RateDistortion {
        let n = Double(max(examples, 1))
        return RateDistortion(rate: rate / n, distortion: distortion / n,
            layerRates: layerRates.isEmpty ? [rate / n] : layerRates.map { $0 / n }, auxiliaryRate: auxiliaryRate.map { $0 / n })
    }
}

/// A run that cannot start or go on; each names the file and what to do.
public enum TrainingRunError: ReportableError {
    case modelMismatch(checkpoint: String, config: String)
    case dataChanged(checkpoint: String, step: Int, epoch: Int, stepsPerEpoch: Int, data: String)
    case nonFinite(NonFiniteLoss, checkpoint: String?)

    public var description: String {
        switch self {
        case let .modelMismatch(checkpoint, config):
            "\(checkpoint) holds a different model than \(config); restore the matching pair"
        case let .dataChanged(checkpoint, step, epoch, stepsPerEpoch, data):
            "\(checkpoint): step \(step) does not lie in epoch \(epoch + 1) of \(stepsPerEpoch) steps: the training set (\(data)) is not the one the run started with, or config.json was edited"
        case let .nonFinite(error, checkpoint):
            "\(error); stopping (\(checkpoint.map { "last good checkpoint: \($0)" } ?? "no checkpoint was written yet")); try a lower --lr or --normalize-gradients"
        }
    }
}
