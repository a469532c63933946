/// Every op of ``OpFallbackBackend``, routed with the buffers it reads and writes.
extension OpFallbackBackend {
    // MARK: Linear algebra and convolution

    public func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try route(.gemm, reads: [a, b, c], writes: [c]) { backend, x in
            try backend.gemm(descriptor, a: x(a), b: x(b), c: x(c))
        }
    }

    public func conv2dForward(_ geometry: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try route(.conv2dForward, reads: [input, filter], writes: [output]) { backend, x in
            try backend.conv2dForward(geometry, input: x(input), filter: x(filter), output: x(output))
        }
    }

    public func conv2dBackwardData(_ geometry: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try route(.conv2dBackwardData, reads: [gradOutput, filter], writes: [gradInput]) { backend, x in
            try backend.conv2dBackwardData(geometry, gradOutput: x(gradOutput), filter: x(filter), gradInput: x(gradInput))
        }
    }

    public func conv2dBackwardFilter(_ geometry: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try route(.conv2dBackwardFilter, reads: [input, gradOutput], writes: [gradFilter]) { backend, x in
            try backend.conv2dBackwardFilter(geometry, input: x(input), gradOutput: x(gradOutput), gradFilter: x(gradFilter))
        }
    }

    public func conv2dFused(_ geometry: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer,
        filter: DeviceBuffer, epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        try route(.conv2dFused, reads: [input, filter, epilogue.operand], writes: [output]) { backend, x in
            try backend.conv2dFused(geometry, pass: pass, input: x(input), filter: x(filter),
                epilogue: try epilogue.mapped(x), output: x(output))
        }
    }

    public func biasAdd(_ input: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        try route(.biasAdd, reads: [input, bias], writes: [output]) { backend, x in
            try backend.biasAdd(x(input), bias: x(bias), output: x(output))
        }
    }

    public func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try route(.biasGradient, reads: [gradOutput], writes: [gradBias]) { backend, x in
            try backend.biasGradient(x(gradOutput), gradBias: x(gradBias))
        }
    }

    public func biasReLU(_ input: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        try route(.biasReLU, reads: [input, bias], writes: [output]) { backend, x in
            try backend.biasReLU(x(input), bias: x(bias), output: x(output))
        }
    }

    public func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws {
        try route(.biasReLUBackward, reads: [output, gradOutput], writes: [gradInput, gradBias]) { backend, x in
            try backend.biasReLUBackward(output: x(output), gradOutput: x(gradOutput), gradInput: x(gradInput),
                gradBias: x(gradBias))
        }
    }

    // MARK: Elementwise and reductions

    public func unary(_ op: UnaryOp, _ input: DeviceBuffer, output: DeviceBuffer) throws {
        try route(.unary, reads: [input], writes: [output]) { backend, x in
            try backend.unary(op, x(input), output: x(output))
        }
    }

    public func unaryBackward(_ op: UnaryOp, x input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try route(.unaryBackward, reads: [input, gradOutput], writes: [gradInput]) { backend, x in
            try backend.unaryBackward(op, x: x(input), gradOutput: x(gradOutput), gradInput: x(gradInput))
        }
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws {
        try route(.binary, reads: [a, b], writes: [output]) { backend, x in
            try backend.binary(op, x(a), shape: aShape, x(b), shape: bShape, output: x(output))
        }
    }

    public func reduce(_ op: ReduceOp, _ input: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        try route(.reduce, reads: [input], writes: [output]) { backend, x in
            try backend.reduce(op, x(input), shape: shape, axes: axes, output: x(output))
        }
    }

    // MARK: Fused losses

    public func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        try route(.bernoulliNLL, reads: [logits, targets], writes: [output]) { backend, x in
            try backend.bernoulliNLL(logits: x(logits), targets: x(targets), rows: rows, output: x(output))
        }
    }

    public func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        try route(.bernoulliNLLBackward, reads: [logits, targets, gradOutput], writes: [gradLogits]) { backend, x in
            try backend.bernoulliNLLBackward(logits: x(logits), targets: x(targets), gradOutput: x(gradOutput),
                gradLogits: x(gradLogits))
        }
    }

    public func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        try route(.gaussianKL, reads: [mean, scale], writes: [output]) { backend, x in
            try backend.gaussianKL(mean: x(mean), scale: x(scale), rows: rows, output: x(output))
        }
    }

    public func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        try route(.gaussianKLBackward, reads: [mean, scale, gradOutput], writes: [gradMean, gradScale]) { backend, x in
            try backend.gaussianKLBackward(mean: x(mean), scale: x(scale), gradOutput: x(gradOutput),
                gradMean: x(gradMean), gradScale: x(gradScale))
        }
    }

    public func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws {
        try route(.gaussianKLPair, reads: [meanQ, scaleQ, meanP, scaleP], writes: [output]) { backend, x in
            try backend.gaussianKLPair(meanQ: x(meanQ), scaleQ: x(scaleQ), meanP: x(meanP), scaleP: x(scaleP),
                rows: rows, output: x(output))
        }
    }

    public func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer,
        scaleP: DeviceBuffer, gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer,
        gradMeanP: DeviceBuffer, gradScaleP: DeviceBuffer) throws {
        try route(.gaussianKLPairBackward, reads: [meanQ, scaleQ, meanP, scaleP, gradOutput],
            writes: [gradMeanQ, gradScaleQ, gradMeanP, gradScaleP]) { backend, x in
            try backend.gaussianKLPairBackward(meanQ: x(meanQ), scaleQ: x(scaleQ), meanP: x(meanP), scaleP: x(scaleP),
                gradOutput: x(gradOutput), gradMeanQ: x(gradMeanQ), gradScaleQ: x(gradScaleQ),
                gradMeanP: x(gradMeanP), gradScaleP: x(gradScaleP))
        }
    }

    public func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int,
        output: DeviceBuffer) throws {
        try route(.ar1KL, reads: [mean, scale, alpha], writes: [output]) { backend, x in
            try backend.ar1KL(mean: x(mean), scale: x(scale), alpha: x(alpha), rows: rows, output: x(output))
        }
    }

    public func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        try route(.ar1KLBackward, reads: [mean, scale, alpha, gradOutput], writes: [gradMean, gradScale]) { backend, x in
            try backend.ar1KLBackward(mean: x(mean), scale: x(scale), alpha: x(alpha), gradOutput: x(gradOutput),
                gradMean: x(gradMean), gradScale: x(gradScale))
        }
    }

    // MARK: Random numbers

    public func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try route(.randomUniform, reads: [], writes: [buffer]) { backend, x in
            try backend.randomUniform(x(buffer), seed: seed, stream: stream, offset: offset)
        }
    }

    public func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try route(.randomNormal, reads: [], writes: [buffer]) { backend, x in
            try backend.randomNormal(x(buffer), seed: seed, stream: stream, offset: offset)
        }
    }

    // MARK: Echo, masked layers and optimisation

    public func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        try route(.echoForward, reads: [f, logScale, indices], writes: [noise, z]) { backend, x in
            try backend.echoForward(shape, f: x(f), logScale: x(logScale), indices: x(indices), noise: x(noise), z: x(z))
        }
    }

    public func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        try route(.echoBackward, reads: [f, logScale, indices, noise, gradZ], writes: [gradF, gradLogScale]) { backend, x in
            try backend.echoBackward(shape, f: x(f), logScale: x(logScale), indices: x(indices), noise: x(noise),
                gradZ: x(gradZ), gradF: x(gradF), gradLogScale: x(gradLogScale))
        }
    }

    public func maskedDenseForward(_ shape: MaskedDenseShape, x input: DeviceBuffer, weight: DeviceBuffer,
        bias: DeviceBuffer, output: DeviceBuffer) throws {
        try route(.maskedDenseForward, reads: [input, weight, bias], writes: [output]) { backend, x in
            try backend.maskedDenseForward(shape, x: x(input), weight: x(weight), bias: x(bias), output: x(output))
        }
    }

    public func maskedDenseBackward(_ shape: MaskedDenseShape, x input: DeviceBuffer, weight: DeviceBuffer,
        gradOutput: DeviceBuffer, gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try route(.maskedDenseBackward, reads: [input, weight, gradOutput],
            writes: [gradInput, gradWeight, gradBias]) { backend, x in
            try backend.maskedDenseBackward(shape, x: x(input), weight: x(weight), gradOutput: x(gradOutput),
                gradInput: x(gradInput), gradWeight: x(gradWeight), gradBias: x(gradBias))
        }
    }

    public func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try route(.maskedConv2dForward, reads: [input, filter], writes: [output]) { backend, x in
            try backend.maskedConv2dForward(shape, input: x(input), filter: x(filter), output: x(output))
        }
    }

    public func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try route(.maskedConv2dBackwardData, reads: [gradOutput, filter], writes: [gradInput]) { backend, x in
            try backend.maskedConv2dBackwardData(shape, gradOutput: x(gradOutput), filter: x(filter), gradInput: x(gradInput))
        }
    }

    public func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try route(.maskedConv2dBackwardFilter, reads: [input, gradOutput], writes: [gradFilter]) { backend, x in
            try backend.maskedConv2dBackwardFilter(shape, input: x(input), gradOutput: x(gradOutput), gradFilter: x(gradFilter))
        }
    }

    public func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        try route(.adamStep, reads: [parameter, gradient, firstMoment, secondMoment],
            writes: [parameter, firstMoment, secondMoment]) { backend, x in
            try backend.adamStep(parameters, step: step, parameter: x(parameter), gradient: x(gradient),
                firstMoment: x(firstMoment), secondMoment: x(secondMoment))
        }
    }
}
