import RDCompute

/// Every op of ``StepRecorder``: run on the wrapped backend, and written down with its
/// arguments (the signature two takes must share) and a replay over the plan's buffers.
extension StepRecorder {
    // MARK: Linear algebra and convolution

    func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try record(signature(.gemm, descriptor), [a, b, c]) { backend, o, _ in
            try backend.gemm(descriptor, a: o[0], b: o[1], c: o[2])
        }
    }

    func conv2dForward(_ geometry: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try record(signature(.conv2dForward, geometry), [input, filter, output], role: .imagePass(geometry, .forward)) { backend, o, _ in
            try backend.conv2dForward(geometry, input: o[0], filter: o[1], output: o[2])
        }
    }

    func conv2dBackwardData(_ geometry: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try record(signature(.conv2dBackwardData, geometry), [gradOutput, filter, gradInput],
            role: .imagePass(geometry, .backwardData)) { backend, o, _ in
            try backend.conv2dBackwardData(geometry, gradOutput: o[0], filter: o[1], gradInput: o[2])
        }
    }

    func conv2dBackwardFilter(_ geometry: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try record(signature(.conv2dBackwardFilter, geometry), [input, gradOutput, gradFilter], role: .filterGradient) { backend, o, _ in
            try backend.conv2dBackwardFilter(geometry, input: o[0], gradOutput: o[1], gradFilter: o[2])
        }
    }

    func conv2dFused(_ geometry: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer, filter: DeviceBuffer,
        epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        let gate = if case .reluGate = epilogue { true } else { false }
        try record(signature(.conv2dFused, geometry, pass, gate), [input, filter, epilogue.operand, output]) { backend, o, _ in
            try backend.conv2dFused(geometry, pass: pass, input: o[0], filter: o[1], epilogue: epilogue.mapped { _ in o[2] },
                output: o[3])
        }
    }

    func biasAdd(_ input: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        try record(signature(.biasAdd), [input, bias, output]) { backend, o, _ in
            try backend.biasAdd(o[0], bias: o[1], output: o[2])
        }
    }

    func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try record(signature(.biasGradient), [gradOutput, gradBias]) { backend, o, _ in
            try backend.biasGradient(o[0], gradBias: o[1])
        }
    }

    func biasReLU(_ input: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        try record(signature(.biasReLU), [input, bias, output], role: .biasReLU) { backend, o, _ in
            try backend.biasReLU(o[0], bias: o[1], output: o[2])
        }
    }

    func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws {
        try record(signature(.biasReLUBackward), [output, gradOutput, gradInput, gradBias], role: .biasReLUBackward) { backend, o, _ in
            try backend.biasReLUBackward(output: o[0], gradOutput: o[1], gradInput: o[2], gradBias: o[3])
        }
    }

    // MARK: Elementwise and reductions

    func unary(_ op: UnaryOp, _ input: DeviceBuffer, output: DeviceBuffer) throws {
        try record(signature(.unary, op), [input, output]) { backend, o, _ in
            try backend.unary(op, o[0], output: o[1])
        }
    }

    func unaryBackward(_ op: UnaryOp, x input: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer) throws {
        try record(signature(.unaryBackward, op), [input, gradOutput, gradInput]) { backend, o, _ in
            try backend.unaryBackward(op, x: o[0], gradOutput: o[1], gradInput: o[2])
        }
    }

    func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws {
        try record(signature(.binary, op, aShape, bShape), [a, b, output]) { backend, o, _ in
            try backend.binary(op, o[0], shape: aShape, o[1], shape: bShape, output: o[2])
        }
    }

    func reduce(_ op: ReduceOp, _ input: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        try record(signature(.reduce, op, shape, axes), [input, output]) { backend, o, _ in
            try backend.reduce(op, o[0], shape: shape, axes: axes, output: o[1])
        }
    }

    // MARK: Fused losses

    func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        try record(signature(.bernoulliNLL, rows), [logits, targets, output]) { backend, o, _ in
            try backend.bernoulliNLL(logits: o[0], targets: o[1], rows: rows, output: o[2])
        }
    }

    func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        try record(signature(.bernoulliNLLBackward), [logits, targets, gradOutput, gradLogits]) { backend, o, _ in
            try backend.bernoulliNLLBackward(logits: o[0], targets: o[1], gradOutput: o[2], gradLogits: o[3])
        }
    }

    func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        try record(signature(.gaussianKL, rows), [mean, scale, output]) { backend, o, _ in
            try backend.gaussianKL(mean: o[0], scale: o[1], rows: rows, output: o[2])
        }
    }

    func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer, gradMean: DeviceBuffer,
        gradScale: DeviceBuffer) throws {
        try record(signature(.gaussianKLBackward), [mean, scale, gradOutput, gradMean, gradScale]) { backend, o, _ in
            try backend.gaussianKLBackward(mean: o[0], scale: o[1], gradOutput: o[2], gradMean: o[3], gradScale: o[4])
        }
    }

    func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer, rows: Int,
        output: DeviceBuffer) throws {
        try record(signature(.gaussianKLPair, rows), [meanQ, scaleQ, meanP, scaleP, output]) { backend, o, _ in
            try backend.gaussianKLPair(meanQ: o[0], scaleQ: o[1], meanP: o[2], scaleP: o[3], rows: rows, output: o[4])
        }
    }

    func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer, gradMeanP: DeviceBuffer,
        gradScaleP: DeviceBuffer) throws {
        try record(signature(.gaussianKLPairBackward),
            [meanQ, scaleQ, meanP, scaleP, gradOutput, gradMeanQ, gradScaleQ, gradMeanP, gradScaleP]) { backend, o, _ in
            try backend.gaussianKLPairBackward(meanQ: o[0], scaleQ: o[1], meanP: o[2], scaleP: o[3], gradOutput: o[4],
                gradMeanQ: o[5], gradScaleQ: o[6], gradMeanP: o[7], gradScaleP: o[8])
        }
    }

    func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        try record(signature(.ar1KL, rows), [mean, scale, alpha, output]) { backend, o, _ in
            try backend.ar1KL(mean: o[0], scale: o[1], alpha: o[2], rows: rows, output: o[3])
        }
    }

    func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        try record(signature(.ar1KLBackward), [mean, scale, alpha, gradOutput, gradMean, gradScale]) { backend, o, _ in
            try backend.ar1KLBackward(mean: o[0], scale: o[1], alpha: o[2], gradOutput: o[3], gradMean: o[4],
                gradScale: o[5])
        }
    }

    // MARK: Random numbers (the stream may advance with the step)

    func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try record(signature(.randomUniform, seed, offset), [buffer], dependence: .randomStream(stream)) { backend, o, s in
            try backend.randomUniform(o[0], seed: seed, stream: stream &+ s.stepsSinceTake, offset: offset)
        }
    }

    func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try record(signature(.randomNormal, seed, offset), [buffer], dependence: .randomStream(stream)) { backend, o, s in
            try backend.randomNormal(o[0], seed: seed, stream: stream &+ s.stepsSinceTake, offset: offset)
        }
    }

    // MARK: Echo, masked layers and optimisation

    func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        try record(signature(.echoForward, shape), [f, logScale, indices, noise, z]) { backend, o, _ in
            try backend.echoForward(shape, f: o[0], logScale: o[1], indices: o[2], noise: o[3], z: o[4])
        }
    }

    func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        try record(signature(.echoBackward, shape), [f, logScale, indices, noise, gradZ, gradF, gradLogScale]) { backend, o, _ in
            try backend.echoBackward(shape, f: o[0], logScale: o[1], indices: o[2], noise: o[3], gradZ: o[4], gradF: o[5],
                gradLogScale: o[6])
        }
    }

    func maskedDenseForward(_ shape: MaskedDenseShape, x input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws {
        try record(signature(.maskedDenseForward, shape), [input, weight, bias, output]) { backend, o, _ in
            try backend.maskedDenseForward(shape, x: o[0], weight: o[1], bias: o[2], output: o[3])
        }
    }

    func maskedDenseBackward(_ shape: MaskedDenseShape, x input: DeviceBuffer, weight: DeviceBuffer,
        gradOutput: DeviceBuffer, gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try record(signature(.maskedDenseBackward, shape), [input, weight, gradOutput, gradInput, gradWeight, gradBias]) {
            backend, o, _ in
            try backend.maskedDenseBackward(shape, x: o[0], weight: o[1], gradOutput: o[2], gradInput: o[3],
                gradWeight: o[4], gradBias: o[5])
        }
    }

    func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try record(signature(.maskedConv2dForward, shape), [input, filter, output]) { backend, o, _ in
            try backend.maskedConv2dForward(shape, input: o[0], filter: o[1], output: o[2])
        }
    }

    func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try record(signature(.maskedConv2dBackwardData, shape), [gradOutput, filter, gradInput]) { backend, o, _ in
            try backend.maskedConv2dBackwardData(shape, gradOutput: o[0], filter: o[1], gradInput: o[2])
        }
    }

    func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try record(signature(.maskedConv2dBackwardFilter, shape), [input, gradOutput, gradFilter]) { backend, o, _ in
            try backend.maskedConv2dBackwardFilter(shape, input: o[0], gradOutput: o[1], gradFilter: o[2])
        }
    }

    /// Its hyperparameters (the learning rate follows a schedule) and step count come from the
    /// optimiser each step.
    func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        try record(signature(.adamStep), [parameter, gradient, firstMoment, secondMoment],
            dependence: .adam(parameters, step: step)) { backend, o, s in
            try backend.adamStep(s.adam, step: s.adamStep, parameter: o[0], gradient: o[1], firstMoment: o[2],
                secondMoment: o[3])
        }
    }

    /// The op and every field of its arguments (`dump`, not `description`: a description may
    /// leave fields out).
    private func signature(_ op: Op, _ arguments: Any...) -> String {
        var text = op.rawValue
        for argument in arguments { dump(argument, to: &text, maxDepth: 4) }
        return text
    }
}
