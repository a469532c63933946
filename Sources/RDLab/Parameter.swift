import RDCompute

/// A named, trainable tensor (`encoder.conv1.weight`); the name keys checkpoints and the
/// optimiser's moments.
public struct Parameter: Sendable {
    public let name: String
    public let tensor: Tensor

    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}

/// Anything that owns parameters.
public protocol ParameterContainer {
    var parameters: [Parameter] { get }
}

/// Keras' and PyTorch's initialisers, drawn on the device from the Philox stream so that the
/// same seed gives the same weights on every backend.
public enum Initializer {
    /// Glorot (Xavier) uniform: U(−l, l), l = √(6 / (fanIn + fanOut)) (Keras' kernels).
    case glorotUniform(fanIn: Int, fanOut: Int)
    /// PyTorch's default for the weights and biases of `Linear`, `Conv2d` and
    /// `ConvTranspose2d`: U(−l, l), l = 1/√fanIn. For weights it is Kaiming-uniform with
    /// a = √5, l = gain·√(3/fanIn), gain = √(2/(1 + a²)) = √(1/3); for biases PyTorch draws
    /// U(±1/√fanIn) itself. `fanIn` is PyTorch's: `in·k²` for a convolution, and `out·k²` for a
    /// transposed one (its weight is `[in, out, k, k]`, and PyTorch reads dimension 1).
    case pytorchUniform(fanIn: Int)
    case zeros
    /// N(0, 1) (the toy model's initialisation).
    case standardNormal

    /// The Philox stream of a parameter: a 64-bit FNV-1a hash of its name, so that adding a
    /// layer does not change the others' initial values.
    static func stream(for name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }

    /// A new parameter tensor of `shape`, initialised from `seed`.
    public func make(_ name: String, shape: [Int], backend: any Backend, seed: UInt64) throws -> Parameter {
        let buffer = try backend.makeBuffer(count: Broadcast.count(shape))
        switch self {
        case .zeros:
            try backend.fill(buffer, with: 0)
        case .standardNormal:
            try backend.randomNormal(buffer, seed: seed, stream: Self.stream(for: name), offset: 0)
        case let .glorotUniform(fanIn, fanOut):
            try Self.uniform(buffer, limit: Float((6.0 / Double(fanIn + fanOut)).squareRoot()), name: name, backend: backend,
                seed: seed)
        case .pytorchUniform(let fanIn):
            try Self.uniform(buffer, limit: Float(1 / Double(max(fanIn, 1)).squareRoot()), name: name, backend: backend, seed: seed)
        }
        return Parameter(name: name, tensor: Tensor(shape: shape, buffer: buffer, requiresGradient: true))
    }

    /// Fills `buffer` with U(−limit, limit) from the parameter's Philox stream.
    private static func uniform(_ buffer: DeviceBuffer, limit: Float, name: String, backend: any Backend, seed: UInt64) throws {
        try backend.randomUniform(buffer, seed: seed, stream: stream(for: name), offset: 0)
        // u ∈ [0, 1) → (2u − 1)·l, two exactly rounded ops on every backend
        let two = try backend.makeBuffer([2]), scaleBuffer = try backend.makeBuffer([limit]), one = try backend.makeBuffer([1])
        try backend.binary(.mul, buffer, shape: [buffer.count], two, shape: [1], output: buffer)
        try backend.binary(.sub, buffer, shape: [buffer.count], one, shape: [1], output: buffer)
        try backend.binary(.mul, buffer, shape: [buffer.count], scaleBuffer, shape: [1], output: buffer)
    }
}
