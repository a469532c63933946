import RDCompute

/// One call of each op's ``Backend`` method, reached by its ``Op``, on placeholder operands:
/// every buffer operand is the same one-element buffer and every shape has extent 1, so a
/// complete backend runs the op or rejects the operands, and a partial backend that lacks
/// the op throws ``ComputeError/unsupported(op:backend:reason:)``. For tests of what a
/// backend answers, never of results.
public enum OpCalls {
    /// A call of one op on `backend` with `x` (made by `backend`) as every buffer operand.
    public typealias Call = @Sendable (_ backend: any Backend, _ x: DeviceBuffer) throws -> Void

    /// The call of every op; a test fails when an ``Op`` has no entry.
    public static let table: [Op: Call] = [
        .gemm: { b, x in try b.gemm(GemmDescriptor(m: 1, n: 1, k: 1), a: x, b: x, c: x) },
        .conv2dForward: { b, x in try b.conv2dForward(unitConv, input: x, filter: x, output: x) },
        .conv2dBackwardData: { b, x in try b.conv2dBackwardData(unitConv, gradOutput: x, filter: x, gradInput: x) },
        .conv2dBackwardFilter: { b, x in try b.conv2dBackwardFilter(unitConv, input: x, gradOutput: x, gradFilter: x) },
        .conv2dFused: { b, x in
            try b.conv2dFused(unitConv, pass: .forward, input: x, filter: x, epilogue: .biasReLU(bias: x), output: x)
        },
        .biasAdd: { b, x in try b.biasAdd(x, bias: x, output: x) },
        .biasGradient: { b, x in try b.biasGradient(x, gradBias: x) },
        .biasReLU: { b, x in try b.biasReLU(x, bias: x, output: x) },
        .biasReLUBackward: { b, x in try b.biasReLUBackward(output: x, gradOutput: x, gradInput: x, gradBias: x) },
        .unary: { b, x in try b.unary(.relu, x, output: x) },
        .unaryBackward: { b, x in try b.unaryBackward(.relu, x: x, gradOutput: x, gradInput: x) },
        .binary: { b, x in try b.binary(.add, x, shape: [1], x, shape: [1], output: x) },
        .reduce: { b, x in try b.reduce(.sum, x, shape: [1], axes: [0], output: x) },
        .bernoulliNLL: { b, x in try b.bernoulliNLL(logits: x, targets: x, rows: 1, output: x) },
        .bernoulliNLLBackward: { b, x in try b.bernoulliNLLBackward(logits: x, targets: x, gradOutput: x, gradLogits: x) },
        .gaussianKL: { b, x in try b.gaussianKL(mean: x, scale: x, rows: 1, output: x) },
        .gaussianKLBackward: { b, x in
            try b.gaussianKLBackward(mean: x, scale: x, gradOutput: x, gradMean: x, gradScale: x)
        },
        .gaussianKLPair: { b, x in try b.gaussianKLPair(meanQ: x, scaleQ: x, meanP: x, scaleP: x, rows: 1, output: x) },
        .gaussianKLPairBackward: { b, x in
            try b.gaussianKLPairBackward(meanQ: x, scaleQ: x, meanP: x, scaleP: x, gradOutput: x, gradMeanQ: x,
                gradScaleQ: x, gradMeanP: x, gradScaleP: x)
        },
        .ar1KL: { b, x in try b.ar1KL(mean: x, scale: x, alpha: x, rows: 1, output: x) },
        .ar1KLBackward: { b, x in
            try b.ar1KLBackward(mean: x, scale: x, alpha: x, gradOutput: x, gradMean: x, gradScale: x)
        },
        .randomUniform: { b, x in try b.randomUniform(x, seed: 1, stream: 0, offset: 0) },
        .randomNormal: { b, x in try b.randomNormal(x, seed: 1, stream: 0, offset: 0) },
        .adamStep: { b, x in
            try b.adamStep(AdamParameters(), step: 1, parameter: x, gradient: x, firstMoment: x, secondMoment: x)
        },
        .echoForward: { b, x in try b.echoForward(unitEcho, f: x, logScale: x, indices: x, noise: x, z: x) },
        .echoBackward: { b, x in
            try b.echoBackward(unitEcho, f: x, logScale: x, indices: x, noise: x, gradZ: x, gradF: x, gradLogScale: x)
        },
        .maskedDenseForward: { b, x in
            try b.maskedDenseForward(try unitMaskedDense(), x: x, weight: x, bias: x, output: x)
        },
        .maskedDenseBackward: { b, x in
            try b.maskedDenseBackward(try unitMaskedDense(), x: x, weight: x, gradOutput: x, gradInput: x,
                gradWeight: x, gradBias: x)
        },
        .maskedConv2dForward: { b, x in try b.maskedConv2dForward(try unitMaskedConv(), input: x, filter: x, output: x) },
        .maskedConv2dBackwardData: { b, x in
            try b.maskedConv2dBackwardData(try unitMaskedConv(), gradOutput: x, filter: x, gradInput: x)
        },
        .maskedConv2dBackwardFilter: { b, x in
            try b.maskedConv2dBackwardFilter(try unitMaskedConv(), input: x, gradOutput: x, gradFilter: x)
        },
    ]

    /// Calls `op` on `backend` with a fresh one-element buffer as every operand.
    public static func call(_ op: Op, on backend: any Backend) throws {
        guard let call = table[op] else {
            throw ComputeError.invalidArgument(op: op.rawValue, reason: "no entry in OpCalls.table")
        }
        try call(backend, try backend.makeBuffer([0.5]))
    }

    private static let unitConv = Conv2DGeometry(batch: 1, height: 1, width: 1, inChannels: 1, outChannels: 1,
        kernelHeight: 1, kernelWidth: 1)
    private static let unitEcho = EchoShape(batch: 1, dimensions: 1, terms: 1)
    private static func unitMaskedDense() throws -> MaskedDenseShape {
        try MaskedDenseShape(batch: 1, inputDegrees: [1], outputDegrees: [1])
    }
    private static func unitMaskedConv() throws -> MaskedConv2DShape { try MaskedConv2DShape(unitConv, taps: [(0, 0)]) }
}
