import RDCompute

extension KernelFamily {
    static let loss = KernelFamily(name: "loss",
        kernels: ["bernoulli_nll", "bernoulli_nll_backward", "gaussian_kl", "gaussian_kl_backward", "gaussian_kl_pair",
            "gaussian_kl_pair_backward", "ar1_kl", "ar1_kl_backward"])
}

extension OpenCLBackend {
    public func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("bernoulliNLL", rows: rows, logits, targets)
        try OpValidation.require(output.count >= rows, "bernoulliNLL", "output holds \(output.count) of \(rows) rows")
        let local = groupSize("bernoulli_nll")
        try launch("bernoulli_nll", global: [rows * local], local: [local],
            [.buffer(logits), .buffer(targets), .buffer(output), .int(columns), .local(local * 4)])
    }

    public func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        let columns = try OpValidation.rows("bernoulliNLLBackward", rows: gradOutput.count, logits, targets, gradLogits)
        try launchElementwise("bernoulli_nll_backward", count: logits.count, [
            .buffer(logits), .buffer(targets), .buffer(gradOutput), .buffer(gradLogits), .int(columns), .int(logits.count),
        ])
    }

    public func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKL", rows: rows, mean, scale)
        try OpValidation.require(output.count >= rows, "gaussianKL", "output holds \(output.count) of \(rows) rows")
        let local = groupSize("gaussian_kl")
        try launch("gaussian_kl", global: [rows * local], local: [local],
            [.buffer(mean), .buffer(scale), .buffer(output), .int(columns), .local(local * 4)])
    }

    public func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKLBackward", rows: gradOutput.count, mean, scale, gradMean, gradScale)
        try launchElementwise("gaussian_kl_backward", count: mean.count, [
            .buffer(mean), .buffer(scale), .buffer(gradOutput), .buffer(gradMean), .buffer(gradScale), .int(columns),
            .int(mean.count),
        ])
    }

    public func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKLPair", rows: rows, meanQ, scaleQ, meanP, scaleP)
        try OpValidation.require(output.count >= rows, "gaussianKLPair", "output holds \(output.count) of \(rows) rows")
        let local = groupSize("gaussian_kl_pair")
        try launch("gaussian_kl_pair", global: [rows * local], local: [local],
            [.buffer(meanQ), .buffer(scaleQ), .buffer(meanP), .buffer(scaleP), .buffer(output), .int(columns),
             .local(local * 4)])
    }

    public func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer, gradMeanP: DeviceBuffer,
        gradScaleP: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKLPairBackward", rows: gradOutput.count, meanQ, scaleQ, meanP, scaleP,
            gradMeanQ, gradScaleQ, gradMeanP, gradScaleP)
        try launchElementwise("gaussian_kl_pair_backward", count: meanQ.count, [
            .buffer(meanQ), .buffer(scaleQ), .buffer(meanP), .buffer(scaleP), .buffer(gradOutput), .buffer(gradMeanQ),
            .buffer(gradScaleQ), .buffer(gradMeanP), .buffer(gradScaleP), .int(columns), .int(meanQ.count),
        ])
    }

    public func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KL", rows: rows, alpha: alpha, mean, scale)
        try OpValidation.require(output.count >= rows, "ar1KL", "output holds \(output.count) of \(rows) rows")
        let local = groupSize("ar1_kl")
        try launch("ar1_kl", global: [rows * local], local: [local],
            [.buffer(mean), .buffer(scale), .buffer(alpha), .buffer(output), .int(steps), .int(dimensions),
             .local(local * 4)])
    }

    public func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KLBackward", rows: gradOutput.count, alpha: alpha, mean, scale,
            gradMean, gradScale)
        try launchElementwise("ar1_kl_backward", count: mean.count, [
            .buffer(mean), .buffer(scale), .buffer(alpha), .buffer(gradOutput), .buffer(gradMean), .buffer(gradScale),
            .int(steps), .int(dimensions), .int(mean.count),
        ])
    }
}
