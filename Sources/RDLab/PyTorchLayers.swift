import RDCompute

/// Layers with PyTorch's semantics (HIT, seed-spec §8): symmetric padding, `output_padding`,
/// and PyTorch's default initialisation (``Initializer/pytorchUniform(fanIn:)`` for weights and
/// biases). They sit beside the Keras-style ``Dense``, ``Conv2D`` and ``ConvTranspose2D`` and
/// never mix with them: a `Conv2D(padding: .same)` and a `PyTorchConv2D(padding: 2)` of a
/// 5×5 kernel at stride 2 give the same size but read pixels shifted by one (§6.1).
///
/// Tensors stay in rdlab's layouts (NHWC images, `[in, out]` and HWIO kernels), so a
/// PyTorch model's flatten of `C×H×W` is rdlab's flatten of `H×W×C`: the same model up to a
/// fixed permutation of the units between a convolution and a linear layer.
enum PyTorchActivation {
    /// Throws for `gated`, which PyTorch's layers do not have.
    static func check(_ activation: Activation) throws {
        guard activation != .gated else {
            throw ComputeError.invalidArgument(op: "PyTorch layer", reason: "gated units are Keras-style layers only")
        }
    }

    /// `activation(x + bias)`, the bias on the channel axis, ReLU fused with the bias.
    static func apply(_ x: Tensor, _ bias: Parameter, activation: Activation, in graph: Graph) throws -> Tensor {
        if activation == .relu { return try graph.addBiasReLU(x, bias.tensor) }
        return try activation.apply(try graph.addBias(x, bias.tensor), in: graph)
    }
}

/// `nn.Linear(in, out)`: `[..., in]` → `[..., out]`, the weight stored `[in, out]`.
public final class PyTorchLinear: ParameterContainer {
    public let inputs: Int
    public let outputs: Int
    public let activation: Activation
    let weight: Parameter
    let bias: Parameter

    public init(_ name: String, inputs: Int, outputs: Int, activation: Activation = .linear, backend: any Backend,
        seed: UInt64) throws {
        try PyTorchActivation.check(activation)
        self.inputs = inputs
        self.outputs = outputs
        self.activation = activation
        weight = try Initializer.pytorchUniform(fanIn: inputs).make("\(name).weight", shape: [inputs, outputs], backend: backend,
            seed: seed)
        bias = try Initializer.pytorchUniform(fanIn: inputs).make("\(name).bias", shape: [outputs], backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        try PyTorchActivation.apply(try graph.matmul(x, weight.tensor), bias, activation: activation, in: graph)
    }
}

/// `nn.Conv2d(Σ inChannels, out, k, stride, padding)` on NHWC images, applied to the
/// channel-wise concatenation of its inputs: `y = b + Σ_i conv(x_i, W_i)`, one HWIO kernel
/// `[k, k, inChannels[i], out]` per input (what `torch.cat` then one convolution computes,
/// without copying the concatenation). The fan-in of the initialisation counts every input
/// channel, as PyTorch's single kernel does.
public final class PyTorchConv2D: ParameterContainer {
    public let inChannels: [Int]
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let activation: Activation
    let weights: [Parameter]
    let bias: Parameter

    public init(_ name: String, inChannels: [Int], outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        activation: Activation = .linear, backend: any Backend, seed: UInt64) throws {
        try PyTorchActivation.check(activation)
        guard !inChannels.isEmpty else { throw ComputeError.invalidArgument(op: "PyTorchConv2D", reason: "no inputs") }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.activation = activation
        let initializer = Initializer.pytorchUniform(fanIn: inChannels.reduce(0, +) * kernel * kernel)
        weights = try inChannels.enumerated().map { i, channels in
            try initializer.make(inChannels.count == 1 ? "\(name).weight" : "\(name).weight\(i + 1)",
                shape: [kernel, kernel, channels, outChannels], backend: backend, seed: seed)
        }
        bias = try initializer.make("\(name).bias", shape: [outChannels], backend: backend, seed: seed)
    }

    public convenience init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        activation: Activation = .linear, backend: any Backend, seed: UInt64) throws {
        try self.init(name, inChannels: [inChannels], outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
            activation: activation, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { weights + [bias] }

    /// The geometry for NHWC input `x` `[B, H, W, C]`.
    func geometry(_ x: Tensor, channels: Int) throws -> Conv2DGeometry {
        guard x.shape.count == 4, x.shape[3] == channels else {
            throw ComputeError.invalidArgument(op: "PyTorchConv2D", reason: "input \(x.shape) is not NHWC with \(channels) channels")
        }
        return .pytorch(batch: x.shape[0], height: x.shape[1], width: x.shape[2], inChannels: channels, outChannels: outChannels,
            kernel: kernel, stride: stride, padding: padding)
    }

    /// One input per entry of ``inChannels``, all of the same batch and size.
    public func callAsFunction(_ inputs: Tensor..., in graph: Graph) throws -> Tensor {
        guard inputs.count == weights.count else {
            throw ComputeError.invalidArgument(op: "PyTorchConv2D", reason: "\(inputs.count) inputs for \(weights.count) kernels")
        }
        var sum: Tensor?
        for (x, (weight, channels)) in zip(inputs, zip(weights, inChannels)) {
            let y = try graph.conv2d(x, weight.tensor, geometry: try geometry(x, channels: channels))
            sum = try sum.map { try graph.add($0, y) } ?? y
        }
        guard let sum else { throw ComputeError.invalidArgument(op: "PyTorchConv2D", reason: "no inputs") }
        return try PyTorchActivation.apply(sum, bias, activation: activation, in: graph)
    }
}

/// `nn.ConvTranspose2d(in, out, k, stride, padding, output_padding)` on NHWC images:
/// `out = (in − 1)·s − 2p + k + q`; the kernel stored `[k, k, out, in]` (rdlab's transposed
/// layout), initialised with PyTorch's fan-in `out·k²`.
public final class PyTorchConvTranspose2D: ParameterContainer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int
    public let activation: Activation
    let weight: Parameter
    let bias: Parameter

    /// `outputPadding` must lie in `0 ..< stride`, as PyTorch requires.
    public init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
        outputPadding: Int = 0, activation: Activation = .linear, backend: any Backend, seed: UInt64) throws {
        try PyTorchActivation.check(activation)
        guard (0..<max(stride, 1)).contains(outputPadding) else {
            throw ComputeError.invalidArgument(op: "PyTorchConvTranspose2D",
                reason: "output padding \(outputPadding) must be ≥ 0 and smaller than the stride \(stride)")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.activation = activation
        let initializer = Initializer.pytorchUniform(fanIn: outChannels * kernel * kernel)
        weight = try initializer.make("\(name).weight", shape: [kernel, kernel, outChannels, inChannels], backend: backend,
            seed: seed)
        bias = try initializer.make("\(name).bias", shape: [outChannels], backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        guard x.shape.count == 4, x.shape[3] == inChannels else {
            throw ComputeError.invalidArgument(op: "PyTorchConvTranspose2D", reason: "input \(x.shape) is not NHWC with \(inChannels) channels")
        }
        let g = Conv2DGeometry.pytorchTransposed(batch: x.shape[0], inHeight: x.shape[1], inWidth: x.shape[2],
            inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
            outputPadding: outputPadding)
        return try PyTorchActivation.apply(try graph.convTranspose2d(x, weight.tensor, geometry: g), bias, activation: activation,
            in: graph)
    }
}
