/// The ops of the ``Backend`` protocol, one case per op method and named as that method
/// (`.gemm` is ``Backend/gemm(_:a:b:c:)``), so that ``Backend/supports(_:)`` answers per
/// op and a scheduler can fall back op by op. The buffer methods (make, upload, download,
/// copy, fill, synchronize) are not ops: every backend has them.
public enum Op: String, Sendable, CaseIterable {
    case gemm
    case conv2dForward, conv2dBackwardData, conv2dBackwardFilter, conv2dFused
    case biasAdd, biasGradient, biasReLU, biasReLUBackward
    case unary, unaryBackward, binary, reduce
    case bernoulliNLL, bernoulliNLLBackward, gaussianKL, gaussianKLBackward
    case gaussianKLPair, gaussianKLPairBackward
    case ar1KL, ar1KLBackward
    case randomUniform, randomNormal
    case adamStep
    case echoForward, echoBackward
    case maskedDenseForward, maskedDenseBackward
    case maskedConv2dForward, maskedConv2dBackwardData, maskedConv2dBackwardFilter
}
