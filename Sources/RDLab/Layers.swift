import RDCompute

/// The affine part every layer shares: a kernel, a bias and, for gated units, a second pair.
struct AffineParameters {
    let weight: Parameter
    let bias: Parameter
    let gate: (weight: Parameter, bias: Parameter)?

    init(name: String, weightShape: [Int], fanIn: Int, fanOut: Int, channels: Int, gated: Bool, backend: any Backend,
        seed: UInt64) throws {
        let glorot = Initializer.glorotUniform(fanIn: fanIn, fanOut: fanOut)
        weight = try glorot.make("\(name).weight", shape: weightShape, backend: backend, seed: seed)
        bias = try Initializer.zeros.make("\(name).bias", shape: [channels], backend: backend, seed: seed)
        gate = gated
            ? (try glorot.make("\(name).gate.weight", shape: weightShape, backend: backend, seed: seed),
                try Initializer.zeros.make("\(name).gate.bias", shape: [channels], backend: backend, seed: seed))
            : nil
    }

    var all: [Parameter] { [weight, bias] + (gate.map { [$0.weight, $0.bias] } ?? []) }

    /// `activation(linear(x) + b)`, or `(linear₁(x) + b₁)·σ(linear₂(x) + b₂)` when gated.
    func apply(_ x: Tensor, activation: Activation, in graph: Graph, linear: (Tensor, Tensor) throws -> Tensor) throws -> Tensor {
        if gate == nil && activation == .relu { return try graph.addBiasReLU(try linear(x, weight.tensor), bias.tensor) }
        let value = try graph.addBias(try linear(x, weight.tensor), bias.tensor)
        guard let gate else { return try activation.apply(value, in: graph) }
        return try graph.gated(value, try graph.addBias(try linear(x, gate.weight.tensor), gate.bias.tensor))
    }
}

/// Keras `Dense`: `[..., inputs]` → `[..., outputs]`, Glorot-uniform kernel, zero bias.
public final class Dense: ParameterContainer {
    public let inputs: Int
    public let outputs: Int
    public let activation: Activation
    let affine: AffineParameters

    public init(_ name: String, inputs: Int, outputs: Int, activation: Activation = .linear, backend: any Backend,
        seed: UInt64) throws {
        self.inputs = inputs
        self.outputs = outputs
        self.activation = activation
        affine = try AffineParameters(name: name, weightShape: [inputs, outputs], fanIn: inputs, fanOut: outputs,
            channels: outputs, gated: activation == .gated, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { affine.all }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        try affine.apply(x, activation: activation, in: graph) { try graph.matmul($0, $1) }
    }
}

/// What the two convolution layers share: geometry settings, activation and parameters.
public class ConvolutionLayer: ParameterContainer {
    public let kernel: Int
    public let stride: Int
    public let padding: Conv2DGeometry.Padding
    public let activation: Activation
    let affine: AffineParameters

    /// `weightShape` is the kernel's layout, `fans` Keras' Glorot fans, `channels` the bias size.
    init(_ name: String, weightShape: [Int], fans: (in: Int, out: Int), channels: Int, kernel: Int, stride: Int,
        padding: Conv2DGeometry.Padding, activation: Activation, backend: any Backend, seed: UInt64) throws {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.activation = activation
        affine = try AffineParameters(name: name, weightShape: weightShape, fanIn: fans.in, fanOut: fans.out,
            channels: channels, gated: activation == .gated, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] { affine.all }
}

/// Keras `Conv2D` on NHWC images: kernel `[k, k, in, out]`, `same`/`valid` padding.
public final class Conv2D: ConvolutionLayer {
    public init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
        padding: Conv2DGeometry.Padding = .same, activation: Activation = .relu, backend: any Backend, seed: UInt64) throws {
        try super.init(name, weightShape: [kernel, kernel, inChannels, outChannels],
            fans: (kernel * kernel * inChannels, kernel * kernel * outChannels), channels: outChannels, kernel: kernel,
            stride: stride, padding: padding, activation: activation, backend: backend, seed: seed)
    }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        try affine.apply(x, activation: activation, in: graph) { try graph.conv2d($0, $1, stride: stride, padding: padding) }
    }
}

/// Keras `Conv2DTranspose` on NHWC images: kernel `[k, k, out, in]`, output size
/// `in·stride` (`same`) or `(in − 1)·stride + k` (`valid`).
public final class ConvTranspose2D: ConvolutionLayer {
    public init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
        padding: Conv2DGeometry.Padding = .same, activation: Activation = .relu, backend: any Backend, seed: UInt64) throws {
        // Keras computes the fans of a transposed kernel [k, k, out, in] from its layout: k²·out, k²·in.
        try super.init(name, weightShape: [kernel, kernel, outChannels, inChannels],
            fans: (kernel * kernel * outChannels, kernel * kernel * inChannels), channels: outChannels, kernel: kernel,
            stride: stride, padding: padding, activation: activation, backend: backend, seed: seed)
    }

    public func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Tensor {
        try affine.apply(x, activation: activation, in: graph) {
            try graph.convTranspose2d($0, $1, stride: stride, padding: padding)
        }
    }
}
