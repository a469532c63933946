import RDCompute

/// A masked dense layer: `activation(x·(W ⊙ M) + b)` with the MADE mask of its degrees.
public final class MaskedDense: ParameterContainer {
    public let inputDegrees: [Int]
    public let outputDegrees: [Int]
    public let activation: Activation
    let weight: Parameter
    let bias: Parameter

    public init(_ name: String, inputDegrees: [Int], outputDegrees: [Int], activation: Activation = .linear,
        backend: any Backend, seed: UInt64) throws {
        self.inputDegrees = inputDegrees
        self.outputDegrees = outputDegrees
        self.activation = activation
        let (inputs, outputs) = (inputDegrees.count, outputDegrees.count)
        weight = try Initializer.glorotUniform(fanIn: inputs, fanOut: outputs).make("\(name).weight", shape: [inputs, outputs],
            backend: backend, seed: seed)
        bias = try Initializer.zeros.make("\(name).bias", shape: [outputs], backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        try activation.apply(try graph.maskedDense(x, weight.tensor, bias.tensor, inputDegrees: inputDegrees,
            outputDegrees: outputDegrees), in: graph)
    }
}

/// MADE (Germain et al.) with TFP's deterministic block degrees (seed-spec §3.1): `dimensions`
/// inputs, ReLU hidden layers (3 × 640 by default), and `outputsPerDimension` outputs per
/// variable (1 for the mean-only IAF and MAF: 903,104 parameters at d = 64), interleaved
/// (outputs `k·p ..< (k+1)·p` belong to variable k). Output k depends on
/// inputs `0 ..< k` only.
public final class MADE: ParameterContainer {
    public let dimensions: Int
    public let outputsPerDimension: Int
    let layers: [MaskedDense]

    public init(_ name: String, dimensions: Int, hidden: [Int] = [640, 640, 640], outputsPerDimension: Int = 1,
        backend: any Backend, seed: UInt64) throws {
        self.dimensions = dimensions
        self.outputsPerDimension = outputsPerDimension
        var degrees = MaskedDenseShape.madeInputDegrees(dimensions)
        var layers: [MaskedDense] = []
        for (i, units) in hidden.enumerated() {
            let next = try MaskedDenseShape.madeHiddenDegrees(units: units, dimensions: dimensions)
            layers.append(try MaskedDense("\(name).hidden\(i + 1)", inputDegrees: degrees, outputDegrees: next,
                activation: .relu, backend: backend, seed: seed))
            degrees = next
        }
        layers.append(try MaskedDense("\(name).output", inputDegrees: degrees,
            outputDegrees: MaskedDenseShape.madeOutputDegrees(dimensions: dimensions, perDimension: outputsPerDimension),
            backend: backend, seed: seed))
        self.layers = layers
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// `[B, dimensions]` → `[B, dimensions · outputsPerDimension]`.
    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer(h, in: graph) }
        return h
    }
}
