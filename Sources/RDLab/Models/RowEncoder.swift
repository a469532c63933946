import RDCompute

/// The δ-VAE's anti-causal encoder at MNIST scale (seed-spec §9.4): a diagonal Gaussian
/// q(z_t|x) = N(μ_t, σ_t²) per image row t whose parameters read rows t…27 only.
///
/// The paper flips the image, runs a causal stack and flips back; here the stack is built
/// flipped instead — three *up*-shifted 2×3 convolutions (position (t, j) reads rows t and
/// t + 1, padding below), the mean over each row's columns, then one convolution along the
/// rows with a 28×1 kernel padded 27 below, so row t's features see every later row; μ_t and
/// σ_t = softplus(·) + 1e-6 by a linear map of each row's features. ReLU between layers.
final class RowEncoder: ParameterContainer {
    /// Channels of every layer.
    static let features = 32
    let convolutions: [LinearSum]
    let rows: LinearSum
    let mean: PyTorchLinear
    let scale: PyTorchLinear
    let dimension: Int

    init(rowDimension d: Int, backend: any Backend, seed: UInt64) throws {
        let f = Self.features
        dimension = d
        convolutions = try [1, f, f].enumerated().map { layer, inputs in
            try LinearSum("encoder.rows.conv\(layer + 1)",
                terms: [(name: "conv", shape: [2, 3, inputs, f], fans: (6 * inputs, 6 * f), map: Self.upShifted)],
                channels: f, backend: backend, seed: seed)
        }
        rows = try LinearSum("encoder.rows.suffix",
            terms: [(name: "conv", shape: [28, 1, f, f], fans: (28 * f, 28 * f), map: Self.suffix)],
            channels: f, backend: backend, seed: seed)
        mean = try PyTorchLinear("encoder.rows.mean", inputs: f, outputs: d, backend: backend, seed: seed)
        scale = try PyTorchLinear("encoder.rows.scale", inputs: f, outputs: d, activation: .softplus, backend: backend, seed: seed)
    }

    var parameters: [Parameter] { convolutions.flatMap(\.parameters) + rows.parameters + mean.parameters + scale.parameters }

    /// Position (t, j) of the output reads rows t and t + 1, columns j − 1…j + 1.
    static var upShifted: LinearSum.Map {
        { x, w, graph in
            try graph.conv2d(x, w, geometry: Conv2DGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2],
                inChannels: x.shape[3], outChannels: w.shape[3], kernelHeight: 2, kernelWidth: 3, padBottom: 1, padLeft: 1, padRight: 1))
        }
    }

    /// Row t of a `[B, n, 1, f]` sequence reads rows t…t + n − 1 (zeros past the end).
    static var suffix: LinearSum.Map {
        { x, w, graph in
            try graph.conv2d(x, w, geometry: Conv2DGeometry(batch: x.shape[0], height: x.shape[1], width: 1, inChannels: x.shape[3],
                outChannels: w.shape[3], kernelHeight: w.shape[0], kernelWidth: 1, padBottom: w.shape[0] - 1))
        }
    }

    /// q(z_t|x) for every row of images `[B, 28, 28, 1]`: mean and scale `[B, 28, d]`.
    func callAsFunction(_ images: Tensor, in graph: Graph) throws -> DiagonalGaussian {
        let batch = images.shape[0], f = Self.features
        var h = images
        for convolution in convolutions { h = try graph.relu(try convolution([h], in: graph)) }
        let pooled = try graph.reshape(try graph.mean(h, axes: [2]), [batch, 28, 1, f])
        let perRow = try graph.reshape(try graph.relu(try rows([pooled], in: graph)), [batch * 28, f])
        let shape = [batch, 28, dimension]
        return DiagonalGaussian(mean: try graph.reshape(try mean(perRow, in: graph), shape),
            scale: try graph.reshape(try graph.add(try scale(perRow, in: graph), try graph.scalar(1e-6)), shape))
    }
}
