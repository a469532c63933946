import RDCompute

/// A fitted ``LinearProbe``: the standardisation of its fitting set and the weights of the
/// logistic regression on it. Predicts `argmax_c ℓ_c` with `ℓ = ((x − μ) / s) W + b`.
public struct LinearProbeModel: Sendable {
    /// The standardisation fitted on the probe's fitting set, applied to every input.
    public let scaling: FeatureScaling
    /// W, row-major `[dimension, classes]`.
    public let weights: [Float]
    /// b, `[classes]`.
    public let bias: [Float]
    public let classes: Int
    /// J(W, b) at the returned weights, on the fitting set (nats per example + penalty).
    public let objective: Double
    /// The backend the logits are computed on.
    public let backend: any Backend

    public var dimension: Int { scaling.mean.count }

    /// The logits `[count, classes]` of `features` (row-major rows of ``dimension`` values).
    public func logits(_ features: [Float]) throws -> [Float] {
        let scaled = try scaling.apply(features)
        let rows = scaled.count / dimension
        guard rows > 0 else { return [] }
        let graph = Graph(backend: backend)
        let x = try graph.constant(scaled, shape: [rows, dimension])
        let w = try graph.constant(weights, shape: [dimension, classes])
        return try graph.values(try graph.addBias(try graph.matmul(x, w), try graph.constant(bias, shape: [classes])))
    }

    /// The predicted class of each row of `features`: the first class of largest logit.
    public func predict(_ features: [Float]) throws -> [Int] {
        let values = try logits(features)
        return stride(from: 0, to: values.count, by: classes).map { start in
            var best = 0
            for c in 1..<classes where values[start + c] > values[start + best] { best = c }
            return best
        }
    }

    /// The fraction of `data`'s examples whose class is predicted. Throws if `data` is empty
    /// or has another dimension or number of classes.
    public func accuracy(on data: LabelledFeatures) throws -> Double {
        guard data.count > 0 else { throw ProbeError.noExamples("the logistic probe's evaluation set") }
        guard data.dimension == dimension else {
            throw ProbeError.sizeMismatch("the dimension of the logistic probe's evaluation set", expected: dimension, found: data.dimension)
        }
        guard data.classes == classes else {
            throw ProbeError.sizeMismatch("the classes of the logistic probe's evaluation set", expected: classes, found: data.classes)
        }
        let predicted = try predict(data.features)
        return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(data.count)
    }

    /// ``accuracy(on:)`` for raw arrays: `features` row-major `[labels.count, dimension]`.
    public func accuracy(features: [Float], labels: [Int]) throws -> Double {
        try accuracy(on: try LabelledFeatures(features: features, labels: labels, dimension: dimension, classes: classes))
    }
}
