/// The default of every op method: throw ``ComputeError/unsupported(op:backend:reason:)``
/// naming the op and the backend. A backend overrides the ops it has and lists them in
/// ``Backend/supportedOps``; each default names exactly the ``Op`` of its method.
extension Backend {
    /// The error of an op this backend does not implement.
    private func unsupported(_ op: Op) -> ComputeError {
        .unsupported(op: op.rawValue, backend: displayName, reason: "not implemented by this backend")
    }

    // MARK: Linear algebra and convolution

    public func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        throw unsupported(.gemm)
    }

    public func conv2dForward(_ geometry: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        throw unsupported(.conv2dForward)
    }

    public func conv2dBackwardData(_ geometry: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        throw unsupported(.conv2dBackwardData)
    }

    public func conv2dBackwardFilter(_ geometry: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        throw unsupported(.conv2dBackwardFilter)
    }

    public func conv2dFused(_ geometry: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer,
        filter: DeviceBuffer, epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        throw unsupported(.conv2dFused)
    }

    public func biasAdd(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        throw unsupported(.biasAdd)
    }

    public func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws {
        throw unsupported(.biasGradient)
    }

    public func biasReLU(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        throw unsupported(.biasReLU)
    }

    public func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws {
        throw unsupported(.biasReLUBackward)
    }

    // MARK: Elementwise and reductions

    public func unary(_ op: UnaryOp, _ x: DeviceBuffer, output: DeviceBuffer) throws {
        throw unsupported(.unary)
    }

    public func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer) throws {
        throw unsupported(.unaryBackward)
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws {
        throw unsupported(.binary)
    }

    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        throw unsupported(.reduce)
    }

    // MARK: Fused losses

    public func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        throw unsupported(.bernoulliNLL)
    }

    public func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        throw unsupported(.bernoulliNLLBackward)
    }

    public func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        throw unsupported(.gaussianKL)
    }

    public func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        throw unsupported(.gaussianKLBackward)
    }

    public func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws {
        throw unsupported(.gaussianKLPair)
    }

    public func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer,
        scaleP: DeviceBuffer, gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer,
        gradMeanP: DeviceBuffer, gradScaleP: DeviceBuffer) throws {
        throw unsupported(.gaussianKLPairBackward)
    }

    public func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int,
        output: DeviceBuffer) throws {
        throw unsupported(.ar1KL)
    }

    public func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        throw unsupported(.ar1KLBackward)
    }

    // MARK: Random numbers

    public func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        throw unsupported(.randomUniform)
    }

    public func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        throw unsupported(.randomNormal)
    }

    // MARK: Echo, masked layers and optimisation

    public func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        throw unsupported(.echoForward)
    }

    public func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        throw unsupported(.echoBackward)
    }

    public func maskedDenseForward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer,
        bias: DeviceBuffer, output: DeviceBuffer) throws {
        throw unsupported(.maskedDenseForward)
    }

    public func maskedDenseBackward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer,
        gradOutput: DeviceBuffer, gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        throw unsupported(.maskedDenseBackward)
    }

    public func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        throw unsupported(.maskedConv2dForward)
    }

    public func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        throw unsupported(.maskedConv2dBackwardData)
    }

    public func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        throw unsupported(.maskedConv2dBackwardFilter)
    }

    public func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        throw unsupported(.adamStep)
    }
}
