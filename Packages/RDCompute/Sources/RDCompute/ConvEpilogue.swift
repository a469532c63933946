/// A convolution pass that writes an image-shaped tensor: the passes ``Backend/conv2dFused(_:pass:input:filter:epilogue:output:)``
/// can finish with an elementwise epilogue.
public enum Conv2DImagePass: String, Sendable, CaseIterable {
    /// ``Backend/conv2dForward(_:input:filter:output:)``: `input` is the image, `output` the result.
    case forward
    /// ``Backend/conv2dBackwardData(_:gradOutput:filter:gradInput:)`` (a transposed convolution's
    /// forward pass): `input` is the output gradient, `output` the input gradient.
    case backwardData

    /// Channels of the tensor the pass writes.
    public func outputChannels(_ g: Conv2DGeometry) -> Int {
        self == .forward ? g.outChannels : g.inChannels
    }

    /// Elements of the tensor the pass reads as `input`, and of the one it writes.
    public func counts(_ g: Conv2DGeometry) -> (input: Int, output: Int) {
        self == .forward ? (g.inputCount, g.outputCount) : (g.outputCount, g.inputCount)
    }
}

/// What a fused convolution does to each element `y` it writes, as soon as it is written: the
/// elementwise op that would otherwise follow the pass over the whole tensor.
public enum ConvEpilogue: Sendable {
    /// `y ← max(y + bias[c], 0)`, `c` the channel (channels last): a conv layer's bias and ReLU,
    /// as ``Backend/biasReLU(_:bias:output:)``.
    case biasReLU(bias: DeviceBuffer)
    /// `y ← activation > 0 ? y : 0`: the gradient through a ReLU from its output, as the
    /// `gradInput` of ``Backend/biasReLUBackward(output:gradOutput:gradInput:gradBias:)``.
    case reluGate(activation: DeviceBuffer)

    /// The buffer the epilogue reads.
    public var operand: DeviceBuffer {
        switch self {
        case .biasReLU(let bias): bias
        case .reluGate(let activation): activation
        }
    }

    /// The same epilogue reading `transform(operand)`.
    public func mapped(_ transform: (DeviceBuffer) throws -> DeviceBuffer) rethrows -> ConvEpilogue {
        switch self {
        case .biasReLU(let bias): .biasReLU(bias: try transform(bias))
        case .reluGate(let activation): .reluGate(activation: try transform(activation))
        }
    }
}
