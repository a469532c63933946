import Foundation
import RDCompute

/// Means over a batch (or a set of batches), in nats per example.
public struct RateDistortion: Sendable, Equatable {
    /// Σ_l R_l.
    public var rate: Double
    public var distortion: Double
    /// R_l per latent layer, in the model's order (``RateDistortionModel/latentLayers``).
    public var layerRates: [Double]
    /// The rate under the model's auxiliary prior, where it has one (``AuxiliaryPriorTerms``).
    public var auxiliaryRate: Double?
    public var negativeELBO: Double { rate + distortion }

    public init(rate: Double, distortion: Double, layerRates: [Double]? = nil, auxiliaryRate: Double? = nil) {
        self.rate = rate
        self.distortion = distortion
        self.layerRates = layerRates ?? [rate]
        self.auxiliaryRate = auxiliaryRate
    }
}

/// Training stopped on a non-finite loss.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public let step: Int
    /// The term that went bad: `distortion`, `rate`, `auxiliary prior`, or `objective`.
    public let term: String

    public init(step: Int, term: String) {
        self.step = step
        self.term = term
    }

    public var description: String { "the \(term) became NaN or infinite at step \(step)" }
}

/// One optimisation step of an ``Objective`` on any ``RateDistortionModel``, and evaluation
/// of its rates and distortion; everything stays on the backend except the means read for
/// logging, the objective's update and the finiteness check.
///
/// With ``StepPlanning/replayed`` (the default) the step of each batch shape is recorded once
/// and replayed (``StepPlan``, ``StepPlanner``): the same numbers without a graph per step.
public final class ModelTrainer {
    public let model: any RateDistortionModel
    public let optimizer: Adam
    public private(set) var objective: Objective
    public let learningRate: LearningRateSchedule
    public let seed: UInt64
    /// Steps completed; the next step's index.
    public var step: Int
    /// What a step keeps for its backward pass.
    public let activations: ActivationMemory
    public let planning: StepPlanning
    private let logger: Logger?
    private let planner = StepPlanner()
    /// Steps that replayed a plan (for tests and the log).
    public private(set) var replayedSteps = 0
    /// The conv passes the latest plan fused with a ReLU's op (for tests and the log).
    public private(set) var fusedConvPasses = 0
    /// The layers' rates of the last replayed step, written in place by the next one (see
    /// ``StepReadout/means(_:reusing:)``), so that not even the first replay allocates them.
    private var replayedLayerRates: [Double]
    /// The batch's device copy, by shape: a step reads its input from the same buffer each time.
    private var inputs: [[Int]: DeviceBuffer] = [:]
    private let layerNames: [String]
    /// Whether the objective has state to update after each step.
    private let adaptive: Bool

    /// `logger` gets a line when a step plan is made or refused.
    public init(model: any RateDistortionModel, optimizer: Adam, objective: Objective, learningRate: LearningRateSchedule,
        seed: UInt64, step: Int = 0, activations: ActivationMemory = .kept, planning: StepPlanning = .replayed,
        logger: Logger? = nil) {
        self.model = model
        self.activations = activations
        self.optimizer = optimizer
        self.objective = objective
        self.learningRate = learningRate
        self.seed = seed
        self.step = step
        self.planning = planning
        self.logger = logger
        layerNames = model.latentLayers
        adaptive = objective.isAdaptive(layers: layerNames)
        replayedLayerRates = [Double](repeating: 0, count: layerNames.count)
    }

    /// Philox stream of the reparameterisation noise of a training step.
    static func trainingNoise(step: Int) -> UInt64 { 0x7A_0000_0000_0000 | UInt64(step) }
    /// Philox stream of evaluation batch `index` (fixed across epochs, so evaluations compare),
    /// draw `draw` of an importance-weighted bound (draw 0 is the ELBO's).
    static func evaluationNoise(batch index: Int, draw: Int = 0) -> UInt64 {
        0xE7_0000_0000_0000 | UInt64(draw) << 32 | UInt64(index)
    }

    /// The weights β_l of each layer's rate at the last step taken (the schedule's), or the
    /// multiplier λ as it stands now (target rate, GECO).
    public var lastBetas: [Float] { model.latentLayers.map { objective.beta(of: $0, at: max(step - 1, 0)) } }

    /// A step on a batch of host values `[B, …]`; returns the batch means. An auxiliary
    /// prior's loss is added to the objective's unweighted (it reaches only its own parameters).
    public func train(_ batch: HostBatch) throws -> RateDistortion {
        optimizer.hyperparameters.learningRate = learningRate.value(at: step)
        let input = try inputBuffer(batch)
        let means = try planning == .eager ? eagerStep(input, shape: batch.shape, on: model.backend).means
            : plannedStep(input, shape: batch.shape)
        if adaptive {
            objective.update(rates: Dictionary(uniqueKeysWithValues: zip(layerNames, means.layerRates)),
                distortion: means.distortion)
        }
        step += 1
        return means
    }

    /// The batch's values in the input buffer of its shape.
    private func inputBuffer(_ batch: HostBatch) throws -> DeviceBuffer {
        let buffer = try inputs[batch.shape] ?? model.backend.makeBuffer(count: batch.values.count)
        inputs[batch.shape] = buffer
        try model.backend.upload(batch.values, to: buffer)
        return buffer
    }

    /// The step with its graph on `backend` (the model's, or a recorder wrapping it), and what
    /// it read back.
    private func eagerStep(_ input: DeviceBuffer, shape: [Int], on backend: any Backend) throws
        -> (means: RateDistortion, readout: StepReadout) {
        let graph = Graph(backend: backend, activations: activations)
        let out = try model(Tensor(shape: shape, buffer: input), in: graph, seed: seed,
            noiseStream: Self.trainingNoise(step: step))
        var loss = try objective.loss(out, at: step, in: graph)
        if let auxiliary = out.auxiliaryPrior { loss = try graph.add(loss, try out.expectation(auxiliary.loss, in: graph)) }
        let readout = StepReadout(out)
        let values = try StepReadout.tensors(out, loss: loss).map(graph.values)
        let means = readout.means(values)
        try checkFinite(loss: readout.loss(values), means)
        try graph.backward(from: loss)
        try optimizer.update(model.parameters, gradientsFrom: graph)
        return (means, readout)
    }

    /// The step through the planner: replayed when the shape has a plan for the current β,
    /// else eager (and recorded while a plan is in the making).
    private func plannedStep(_ input: DeviceBuffer, shape: [Int]) throws -> RateDistortion {
        switch planner.stage(of: shape) {
        case nil:
            planner.set(.ready, for: shape)
            return try eagerStep(input, shape: shape, on: model.backend).means
        case .refused:
            return try eagerStep(input, shape: shape, on: model.backend).means
        case .planned(let plan, let readout, let betas) where step >= plan.firstStep && currentBetasEqual(betas):
            return try replay(plan, readout: readout)
        case .ready, .planned:
            planner.set(.ready, for: shape)  // an outdated plan's buffers go before the step's
            return try recordFirstTake(input, shape: shape)
        case .firstTake(let first, let firstStep, let firstBetas):
            guard firstStep == step - 1 else { return try recordFirstTake(input, shape: shape) }
            planner.set(.ready, for: shape)
            let second = StepRecorder(wrapping: model.backend)
            let (means, readout) = try eagerStep(input, shape: shape, on: second)
            plan(shape, first: first, firstStep: firstStep, firstBetas: firstBetas, second: second, readout: readout)
            return means
        }
    }

    /// A first take, if β stays for the next step (else an eager step: the takes would differ).
    private func recordFirstTake(_ input: DeviceBuffer, shape: [Int]) throws -> RateDistortion {
        guard currentBetasEqual(layerNames.map { objective.beta(of: $0, at: step + 1) }) else {
            return try eagerStep(input, shape: shape, on: model.backend).means
        }
        let recorder = StepRecorder(wrapping: model.backend)
        let means = try eagerStep(input, shape: shape, on: recorder).means
        planner.set(.firstTake(recorder, step: step, betas: currentBetas()), for: shape)
        return means
    }

    /// The plan of two takes for the steps of `shape` from the next on; or, when they differ,
    /// a new recording when β moved between them (a schedule's β) and eager steps otherwise.
    private func plan(_ shape: [Int], first: StepRecorder, firstStep: Int, firstBetas: [Float], second: StepRecorder,
        readout: StepReadout) {
        do {
            let plan = try StepPlan(first: first, second: second, firstStep: firstStep, reads: readout.count,
                backend: model.backend)
            planner.set(.planned(plan, readout: readout, betas: currentBetas()), for: shape)
            fusedConvPasses = plan.fusedPairs
            logger?.info("step plan for batch \(shape): \(plan.callCount) calls (\(plan.fusedPairs) conv passes fused with a ReLU's op) over \(plan.bufferCount) buffers (\(plan.bytes / 1_048_576) MiB); the steps from \(step + 1) replay it")
        } catch {
            if firstBetas != currentBetas() && !adaptive { return }  // β moved between the takes: stays .ready
            planner.set(.refused, for: shape)
            let reason = firstBetas != currentBetas() ? "the objective's multiplier moves every step" : "\(error)"
            logger?.info("steps on batch \(shape) run eagerly: \(reason)")
        }
    }

    /// The plan's step: forward, the finiteness check on the values read, then the update.
    private func replay(_ plan: StepPlan, readout: StepReadout) throws -> RateDistortion {
        try plan.run(.forward, step: step, adam: optimizer.hyperparameters, adamStep: optimizer.step + 1)
        let means = readout.means(plan.readings, reusing: &replayedLayerRates)
        try checkFinite(loss: readout.loss(plan.readings), means)
        try plan.run(.update, step: step, adam: optimizer.hyperparameters, adamStep: optimizer.step + 1)
        optimizer.advance()
        replayedSteps += 1
        return means
    }

    private func currentBetas() -> [Float] { layerNames.map { objective.beta(of: $0, at: step) } }

    /// Whether every layer's β at this step is `betas` (without making an array).
    private func currentBetasEqual(_ betas: [Float]) -> Bool {
        guard betas.count == layerNames.count else { return false }
        for (index, name) in layerNames.enumerated() where objective.beta(of: name, at: step) != betas[index] { return false }
        return true
    }

    /// Throws ``NonFiniteLoss`` (naming the first bad term) unless the loss is finite.
    private func checkFinite(loss: Float, _ means: RateDistortion) throws {
        guard loss.isFinite else {
            let term = !means.distortion.isFinite ? "distortion" : !means.rate.isFinite ? "rate"
                : !(means.auxiliaryRate?.isFinite ?? true) ? "auxiliary prior" : "objective"
            throw NonFiniteLoss(step: step, term: term)
        }
    }

    /// Rates and distortion of one batch without an update; `index` picks the noise stream.
    public func evaluate(_ batch: HostBatch, index: Int) throws -> RateDistortion {
        let graph = Graph(backend: model.backend)
        let x = try graph.constant(batch.values, shape: batch.shape)
        let out = try model(x, in: graph, seed: seed, noiseStream: Self.evaluationNoise(batch: index))
        return StepReadout(out).means(try StepReadout.tensors(out, loss: nil).map(graph.values))
    }
}
