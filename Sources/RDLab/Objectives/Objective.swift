import Foundation
import RDCompute

/// How the weight β_l of a layer's rate in `D + Σ_l β_l R_l` is set at each step
/// (seed-spec §1.2).
public enum RateWeight: Equatable, Sendable {
    /// β, constant (β = 1: the negative ELBO).
    case constant(beta: Float)
    /// KL annealing: β_t = β · min(1, t/T), linear from 0 over `steps` (Bowman et al.).
    case annealed(beta: Float, steps: Int)
    /// Target rate by dual ascent on the Lagrangian D + λ(R − R*): β = λ.
    case targetRate(TargetRate)
    /// GECO on a distortion target: minimise R + λ(D − κ), i.e. β = 1/λ.
    case geco(GECO)
}

/// The constraint R = R* (or R ≤ R*) by the augmented Lagrangian
///
///     D + λ (R̂ − R*) + (c/2)(R̂ − R*)²,   then   λ ← λ + η_λ (R̂ − R*)
///
/// on the batch rate R̂ (seed-spec §1.2, implementation 2, with the quadratic term of the
/// method of multipliers), λ projected on λ ≥ 0 for the inequality. The step's weight of the
/// rate is β = λ + c(R̂ − R*). The quadratic term holds R at R* where D + R is flat along the
/// frontier (the toy model's D = H − R), where plain dual ascent drifts; λ removes its bias.
public struct TargetRate: Codable, Equatable, Sendable {
    /// Whether the rate must equal the target or only stay at or below it.
    public enum Bound: String, Codable, Sendable, CaseIterable {
        /// R = R*: λ may turn negative, which pushes the rate up.
        case equal
        /// R ≤ R*: λ is kept ≥ 0.
        case atMost = "at-most"
    }

    /// R* in nats per example.
    public var rate: Double
    /// η_λ, per nat of constraint violation per step.
    public var learningRate: Double
    public var bound: Bound
    /// λ at step 0: 0 approaches the target from the autoencoding side (the rate first grows,
    /// then λ brings it down), which avoids the collapsed saddle at R ≈ 0.
    public var initialMultiplier: Double
    /// c of the quadratic term, per nat² (0: plain dual ascent).
    public var penalty: Double

    public init(rate: Double, learningRate: Double = 0.01, bound: Bound = .equal, initialMultiplier: Double = 0,
        penalty: Double = 1) {
        self.rate = rate
        self.learningRate = learningRate
        self.bound = bound
        self.initialMultiplier = initialMultiplier
        self.penalty = penalty
    }
}

/// GECO (Rezende & Viola 2018) on the distortion: constraint C = D − κ, moving average
/// `C̄ ← α C̄ + (1 − α) C`, multiplier `λ ← λ · exp(η_λ C̄)` (stays > 0). The loss
/// R + λC has the gradient of D + (1/λ)R scaled by λ, so β = 1/λ.
public struct GECO: Codable, Equatable, Sendable {
    /// κ, the distortion target in nats per example.
    public var distortion: Double
    public var learningRate: Double
    /// α of the moving average.
    public var smoothing: Double
    public var initialMultiplier: Double

    public init(distortion: Double, learningRate: Double = 0.01, smoothing: Double = 0.99, initialMultiplier: Double = 1) {
        self.distortion = distortion
        self.learningRate = learningRate
        self.smoothing = smoothing
        self.initialMultiplier = initialMultiplier
    }
}

/// Free bits (Kingma et al.): the rate term of a layer becomes Σ_g max(λ, E_batch R_g),
/// over groups g of its latent dimensions, so no group is pushed below λ nats.
public struct FreeBits: Codable, Equatable, Sendable {
    public enum Grouping: String, Codable, Sendable, CaseIterable {
        /// Every latent dimension is a group (needs a rate that is a sum over dimensions).
        case dimension
        /// The whole layer is one group.
        case layer
    }

    /// λ, nats per group.
    public var nats: Double
    public var grouping: Grouping

    public init(nats: Double, grouping: Grouping = .dimension) {
        self.nats = nats
        self.grouping = grouping
    }
}

/// KL warm-up by epoch (the LVAE of Sønderby et al., as HIT trains it): every rate weight
/// is multiplied by `w = min(1, e / epochs)` during epoch e = 0, 1, … (w = 1 for `epochs` = 0).
/// HIT moves w after each step, so the first step of each epoch still uses the previous
/// epoch's w; here an epoch's steps share one w.
public struct KLWarmUp: Codable, Equatable, Sendable {
    /// Epochs until the weights reach their full value (HIT: `num_epochs // 5`).
    public var epochs: Int

    public init(epochs: Int) {
        self.epochs = epochs
    }

    /// HIT's warm-up for a run of `totalEpochs`: `totalEpochs // 5`.
    public init(runEpochs totalEpochs: Int) {
        self.init(epochs: totalEpochs / 5)
    }

    /// w during the zero-based epoch `epoch`.
    public func factor(epoch: Int) -> Float {
        epochs <= 0 ? 1 : min(1, Float(epoch) / Float(epochs))
    }
}

/// The training objective, separate from the model and the trainer: `E[D] + Σ_l β_l R_l`
/// with one ``RateWeight`` for every layer (or one per layer by name), optionally free bits
/// and a KL warm-up. Its state (the multipliers λ) is in ``ObjectiveState`` and checkpointed.
public struct ObjectiveSpec: Equatable, Sendable {
    /// The weight of every layer without its own entry in ``layers``.
    public var weight: RateWeight
    /// Weights of named layers (HIT's `z1`, `z2`).
    public var layers: [String: RateWeight]
    public var freeBits: FreeBits?
    /// Multiplies constant and annealed weights while it lasts (target rates and GECO set
    /// their own weights and take none).
    public var warmUp: KLWarmUp?

    public init(weight: RateWeight = .constant(beta: 1), layers: [String: RateWeight] = [:], freeBits: FreeBits? = nil,
        warmUp: KLWarmUp? = nil) {
        self.weight = weight
        self.layers = layers
        self.freeBits = freeBits
        self.warmUp = warmUp
    }

    public func weight(of layer: String) -> RateWeight { layers[layer] ?? weight }

    /// The first setting out of its range, or nil.
    public func problem() -> SettingProblem? {
        let named: [(Setting, RateWeight)] = [(.beta, weight)] + layers.sorted { $0.key < $1.key }.map { layer, weight in
            (layer == HierarchicalSpec.bottomLayer ? .beta1 : layer == HierarchicalSpec.topLayer ? .beta2 : .beta, weight)
        }
        for (betaSetting, weight) in named {
            switch weight {
            case .constant(let beta):
                if !(beta.isFinite && beta >= 0) { return SettingProblem(setting: betaSetting, reason: "must be a finite number ≥ 0 (got \(beta))") }
            case .annealed(let beta, let steps):
                if !(beta.isFinite && beta >= 0) { return SettingProblem(setting: betaSetting, reason: "must be a finite number ≥ 0 (got \(beta))") }
                if steps < 1 { return SettingProblem(setting: .klAnnealSteps, reason: "must be 0 (constant β) or more (got \(steps))") }
            case .targetRate(let target):
                if !(target.rate.isFinite && target.rate >= 0) {
                    return SettingProblem(setting: .targetRate, reason: "must be a finite number of nats ≥ 0 (got \(target.rate))")
                }
                if !(target.learningRate.isFinite && target.learningRate > 0) {
                    return SettingProblem(setting: .targetRateLr, reason: "must be a finite number > 0 (got \(target.learningRate))")
                }
                if !target.initialMultiplier.isFinite {
                    return SettingProblem(setting: .initialMultiplier, reason: "must be finite (got \(target.initialMultiplier))")
                }
                if !(target.penalty.isFinite && target.penalty >= 0) {
                    return SettingProblem(setting: .targetRatePenalty, reason: "must be a finite number ≥ 0 (got \(target.penalty))")
                }
            case .geco(let geco):
                if !(geco.distortion.isFinite && geco.distortion >= 0) {
                    return SettingProblem(setting: .targetDistortion, reason: "must be a finite number of nats ≥ 0 (got \(geco.distortion))")
                }
                if !(geco.learningRate.isFinite && geco.learningRate > 0) {
                    return SettingProblem(setting: .gecoLr, reason: "must be a finite number > 0 (got \(geco.learningRate))")
                }
                if !((0..<1).contains(geco.smoothing)) {
                    return SettingProblem(setting: .gecoSmoothing, reason: "must lie in [0, 1) (got \(geco.smoothing))")
                }
                if !(geco.initialMultiplier.isFinite && geco.initialMultiplier > 0) {
                    return SettingProblem(setting: .initialMultiplier, reason: "GECO's initial λ = 1/β must be finite and > 0 (got \(geco.initialMultiplier))")
                }
            }
        }
        if let freeBits, !(freeBits.nats.isFinite && freeBits.nats >= 0) {
            return SettingProblem(setting: .freeBits, reason: "must be a finite number of nats ≥ 0 (got \(freeBits.nats))")
        }
        if let warmUp {
            if warmUp.epochs < 0 { return SettingProblem(setting: .klWarmupEpochs, reason: "must be 0 (none) or more (got \(warmUp.epochs))") }
            let scheduled = ([weight] + layers.values).allSatisfy { weight in
                switch weight {
                case .constant, .annealed: true
                case .targetRate, .geco: false
                }
            }
            if !scheduled {
                return SettingProblem(setting: .klWarmupEpochs,
                    reason: "scales constant or annealed β; a target rate or distortion sets β itself: use --kl-warmup-epochs 0")
            }
        }
        return nil
    }
}

/// What the objective carries from step to step: λ of each layer's target rate, λ and the
/// moving average of GECO. Saved in every checkpoint, so a resumed run continues the same λ.
public struct ObjectiveState: Codable, Equatable, Sendable {
    /// λ by layer name.
    public var multipliers: [String: Double] = [:]
    /// GECO's moving average C̄ of D − κ (nil before the first step).
    public var constraintAverage: Double?

    public init(multipliers: [String: Double] = [:], constraintAverage: Double? = nil) {
        self.multipliers = multipliers
        self.constraintAverage = constraintAverage
    }
}

/// The objective at work: builds each step's loss on the graph and updates its state from
/// the step's batch means.
public struct Objective: Sendable {
    public let spec: ObjectiveSpec
    public private(set) var state: ObjectiveState
    /// Steps per epoch of the run, for the warm-up's epoch count.
    public let stepsPerEpoch: Int

    /// `stepsPerEpoch` is the run's, and required when the spec has a warm-up (it counts epochs).
    public init(_ spec: ObjectiveSpec, state: ObjectiveState = ObjectiveState(), stepsPerEpoch: Int? = nil) {
        precondition(spec.warmUp == nil || stepsPerEpoch != nil, "a KL warm-up counts epochs: pass the run's steps per epoch")
        self.spec = spec
        self.state = state
        self.stepsPerEpoch = max(stepsPerEpoch ?? 1, 1)
    }

    /// β_l at `step` (the weight the step's loss gives the layer's rate).
    public func beta(of layer: String, at step: Int) -> Float {
        let warmUp = spec.warmUp?.factor(epoch: step / stepsPerEpoch) ?? 1
        return switch spec.weight(of: layer) {
        case .constant(let beta): beta * warmUp
        case .annealed(let beta, let steps): beta * min(1, Float(step) / Float(steps)) * warmUp
        case .targetRate(let target): Float(state.multipliers[layer] ?? target.initialMultiplier)
        case .geco(let geco): Float(1 / (state.multipliers[layer] ?? geco.initialMultiplier))
        }
    }

    /// `E[D + Σ_l β_l R_l]` (with free bits: `E[D] + Σ_l β_l Σ_g max(λ, E R_{l,g})`), one element.
    public func loss(_ output: ModelOutput, at step: Int, in graph: Graph) throws -> Tensor {
        try addingPenalties(try lagrangian(output, at: step, in: graph), output, in: graph)
    }

    /// The quadratic terms (c/2)(E R_l − R*_l)² of the layers with a target rate (for `at-most`,
    /// (c/2) max(0, E R_l − R*_l)²: a rate below its bound is not pushed up).
    func addingPenalties(_ loss: Tensor, _ output: ModelOutput, in graph: Graph) throws -> Tensor {
        var loss = loss
        for layer in output.rates {
            guard case .targetRate(let target) = spec.weight(of: layer.name), target.penalty > 0 else { continue }
            var excess = try graph.sub(try output.expectation(layer.rate, in: graph), try graph.scalar(Float(target.rate)))
            if target.bound == .atMost { excess = try graph.relu(excess) }
            loss = try graph.add(loss, try graph.scale(try graph.unary(.square, excess), by: Float(target.penalty / 2)))
        }
        return loss
    }

    func lagrangian(_ output: ModelOutput, at step: Int, in graph: Graph) throws -> Tensor {
        guard let freeBits = spec.freeBits else {
            var terms = output.distortion
            for layer in output.rates {
                terms = try graph.add(terms, try graph.scale(layer.rate, by: beta(of: layer.name, at: step)))
            }
            return try output.expectation(terms, in: graph)
        }
        var loss = try output.expectation(output.distortion, in: graph)
        let floor = try graph.scalar(Float(freeBits.nats))
        for layer in output.rates {
            let groups: Tensor
            switch freeBits.grouping {
            case .layer:
                groups = try output.expectation(layer.rate, in: graph)
            case .dimension:
                guard let perDimension = layer.perDimension else {
                    throw ComputeError.invalidArgument(op: "free bits", reason: "layer \(layer.name) has no rate per dimension")
                }
                let rates = try perDimension()
                if let weights = output.weights {
                    groups = try graph.sum(try graph.mul(rates, try graph.reshape(weights, [rates.shape[0], 1])), axes: [0])
                } else {
                    groups = try graph.mean(rates, axes: [0])
                }
            }
            // max(λ, g) = λ + relu(g − λ)
            let floored = try graph.sum(try graph.add(try graph.relu(try graph.sub(groups, floor)), floor), axes: [0])
            loss = try graph.add(loss, try graph.scale(floored, by: beta(of: layer.name, at: step)))
        }
        return loss
    }

    /// Whether ``update(rates:distortion:)`` moves anything: a layer of `layers` has a target
    /// rate or GECO (constant and annealed weights carry no state).
    public func isAdaptive(layers: [String]) -> Bool {
        layers.contains { layer in
            switch spec.weight(of: layer) {
            case .constant, .annealed: false
            case .targetRate, .geco: true
            }
        }
    }

    /// Moves the multipliers after a step with batch means `rates` (by layer) and `distortion`.
    public mutating func update(rates: [String: Double], distortion: Double) {
        // GECO's constraint is on D, one moving average for every layer that uses it
        let spec = self.spec
        let geco = rates.keys.sorted().compactMap { layer -> GECO? in
            if case .geco(let geco) = spec.weight(of: layer) { return geco }
            return nil
        }.first
        if let geco {
            let constraint = distortion - geco.distortion
            state.constraintAverage = state.constraintAverage.map { geco.smoothing * $0 + (1 - geco.smoothing) * constraint }
                ?? constraint
        }
        for (layer, rate) in rates {
            switch spec.weight(of: layer) {
            case .constant, .annealed:
                continue
            case .targetRate(let target):
                let lambda = (state.multipliers[layer] ?? target.initialMultiplier) + target.learningRate * (rate - target.rate)
                state.multipliers[layer] = target.bound == .atMost ? max(0, lambda) : lambda
            case .geco(let geco):
                // bounded so that λ and 1/λ stay finite in Float
                let lambda = (state.multipliers[layer] ?? geco.initialMultiplier)
                    * Foundation.exp(geco.learningRate * (state.constraintAverage ?? 0))
                state.multipliers[layer] = min(max(lambda, 1e-6), 1e6)
            }
        }
    }
}
