import Foundation
import RDCompute

/// Test-set figures of a model: R and D (the ELBO), and the importance-weighted bound.
public enum Evaluator {
    /// The most draws of an importance-weighted bound: draw k's noise stream holds k in 16 bits.
    public static let maximumSamples = (1 << 16) - 1

    /// Means over the test batches in order, each with its fixed noise stream. Throws
    /// ``Interrupted`` between batches once SIGINT or SIGTERM has arrived.
    public static func rateDistortion(_ trainer: ModelTrainer, _ data: any RunData) throws -> (RateDistortion, TimeInterval) {
        let started = Date()
        var rate = 0.0, distortion = 0.0, layers = [Double](repeating: 0, count: trainer.model.latentLayers.count)
        var examples = 0, auxiliary: Double?
        for index in 0..<data.testBatchCount {
            try StopSignal.check()
            let batch = data.testBatch(index)
            let result = try trainer.evaluate(batch, index: index)
            rate += result.rate * Double(batch.count)
            distortion += result.distortion * Double(batch.count)
            for (l, value) in result.layerRates.enumerated() { layers[l] += value * Double(batch.count) }
            if let value = result.auxiliaryRate { auxiliary = (auxiliary ?? 0) + value * Double(batch.count) }
            examples += batch.count
        }
        let n = Double(max(examples, 1))
        return (RateDistortion(rate: rate / n, distortion: distortion / n, layerRates: layers.map { $0 / n },
            auxiliaryRate: auxiliary.map { $0 / n }),
            Date().timeIntervalSince(started))
    }

    /// Why `model` has no importance-weighted bound, or nil.
    public static func importanceWeightingProblem(_ model: any RateDistortionModel, example: HostBatch) throws -> String? {
        let graph = Graph(backend: model.backend)
        let out = try model(try graph.constant(example.values, shape: example.shape), in: graph, seed: 0, noiseStream: 0)
        if case .unavailable(let reason) = out.importanceWeights { return reason }
        return nil
    }

    /// The mean over the test set of the IWAE bound (seed-spec §1.4), in nats per example:
    ///
    ///     log p(x) ≥ E log (1/K) Σ_k d(x|z_k) m(z_k) / e(z_k|x),   z_k ~ e(z|x).
    ///
    /// K = 1 is the ELBO, −(D + R), as ``rateDistortion(_:_:)`` computes it on the same noise
    /// (with the model's own rate, the analytic KL where it has one). For K > 1 the draws are
    /// taken one at a time, each on its own graph (draw k of test batch i uses noise stream
    /// (i, k); draw 0 is the ELBO's), and combined per example by a running log-sum-exp, so
    /// memory does not grow with K. Returns the bound and the seconds it took.
    public static func importanceWeighted(_ trainer: ModelTrainer, _ data: any RunData, samples: Int) throws
        -> (bound: Double, seconds: TimeInterval) {
        guard (1...maximumSamples).contains(samples) else { throw EvaluationError.sampleCount(samples) }
        let started = Date()
        if samples == 1 {
            let (elbo, _) = try rateDistortion(trainer, data)
            return (-elbo.negativeELBO, Date().timeIntervalSince(started))
        }
        let model = trainer.model
        var total = 0.0, examples = 0
        for index in 0..<data.testBatchCount {
            let batch = data.testBatch(index)
            var maximum = [Double](repeating: -.infinity, count: batch.count)
            var scaled = [Double](repeating: 0, count: batch.count)  // Σ_k exp(log w_k − maximum)
            for draw in 0..<samples {
                try StopSignal.check()
                let graph = Graph(backend: model.backend)
                let out = try model(try graph.constant(batch.values, shape: batch.shape), in: graph, seed: trainer.seed,
                    noiseStream: ModelTrainer.evaluationNoise(batch: index, draw: draw))
                guard out.weights == nil else { throw EvaluationError.noDensity("its batch is a weighted distribution, not samples") }
                for (i, value) in try graph.values(try out.importanceWeights.logWeights()).enumerated() {
                    let w = Double(value)
                    guard w.isFinite else { throw EvaluationError.nonFinite(batch: index, draw: draw) }
                    if w > maximum[i] {
                        scaled[i] = scaled[i] * Foundation.exp(maximum[i] - w) + 1
                        maximum[i] = w
                    } else {
                        scaled[i] += Foundation.exp(w - maximum[i])
                    }
                }
            }
            for i in 0..<batch.count { total += maximum[i] + Foundation.log(scaled[i] / Double(samples)) }
            examples += batch.count
        }
        return (total / Double(max(examples, 1)), Date().timeIntervalSince(started))
    }
}

/// An evaluation that cannot be done, and why.
public enum EvaluationError: ReportableError, Equatable {
    case noDensity(String)
    case nonFinite(batch: Int, draw: Int)
    case sampleCount(Int)

    public var description: String {
        switch self {
        case .noDensity(let reason): "--iwae cannot bound this model: \(reason)"
        case .sampleCount(let count): "--iwae must be between 1 and \(Evaluator.maximumSamples) (got \(count))"
        case let .nonFinite(batch, draw): "the importance weight of test batch \(batch), draw \(draw), is NaN or infinite"
        }
    }
}
