import RDCompute

/// The convolutional encoder body of Alemi F.1 / Echo App. E (seed-spec §6.2): 28×28×1 →
/// five convolutions → a 256-vector per example.
public final class ConvEncoder: ParameterContainer {
    let layers: [Conv2D]

    public init(activation: Activation, backend: any Backend, seed: UInt64) throws {
        let specs: [(Int, Int, Int, Int, Conv2DGeometry.Padding)] = [
            (1, 32, 5, 1, .same), (32, 32, 5, 2, .same), (32, 64, 5, 1, .same), (64, 64, 5, 2, .same), (64, 256, 7, 1, .valid),
        ]
        layers = try specs.enumerated().map { i, spec in
            try Conv2D("encoder.conv\(i + 1)", inChannels: spec.0, outChannels: spec.1, kernel: spec.2, stride: spec.3,
                padding: spec.4, activation: activation, backend: backend, seed: seed)
        }
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// `[B, 28, 28, 1]` → `[B, 256]`.
    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer(h, in: graph) }
        return try graph.reshape(h, [x.shape[0], 256])
    }
}

/// The deconvolutional Bernoulli decoder of seed-spec §6.3: z → six transposed convolutions
/// → a linear 5×5 convolution giving one logit per pixel.
public final class DeconvDecoder: ParameterContainer {
    let layers: [ConvTranspose2D]
    let output: Conv2D
    public let latentDimension: Int

    public init(latentDimension: Int, activation: Activation, backend: any Backend, seed: UInt64) throws {
        self.latentDimension = latentDimension
        let specs: [(Int, Int, Int, Int, Conv2DGeometry.Padding)] = [
            (latentDimension, 64, 7, 1, .valid), (64, 64, 5, 1, .same), (64, 64, 5, 2, .same), (64, 32, 5, 1, .same),
            (32, 32, 5, 2, .same), (32, 32, 4, 1, .same),
        ]
        layers = try specs.enumerated().map { i, spec in
            try ConvTranspose2D("decoder.deconv\(i + 1)", inChannels: spec.0, outChannels: spec.1, kernel: spec.2,
                stride: spec.3, padding: spec.4, activation: activation, backend: backend, seed: seed)
        }
        output = try Conv2D("decoder.logits", inChannels: 32, outChannels: 1, kernel: 5, activation: .linear,
            backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) + output.parameters }

    /// `[B, D]` → logits `[B, 28, 28, 1]`.
    public func callAsFunction(_ z: Tensor, in graph: Graph) throws -> Tensor {
        var h = try graph.reshape(z, [z.shape[0], 1, 1, latentDimension])
        for layer in layers { h = try layer(h, in: graph) }
        return try output(h, in: graph)
    }
}
