import RDCompute

/// The fused per-example losses of the rate–distortion objective, in nats.
extension Graph {
    /// Distortion of a Bernoulli decoder: `Σ_pixels softplus(l) − x·l` per example → `[batch]`.
    public func bernoulliNLL(logits: Tensor, targets: Tensor) throws -> Tensor {
        guard logits.shape == targets.shape, let rows = logits.shape.first else {
            throw ComputeError.invalidArgument(op: "bernoulliNLL", reason: "logits \(logits.shape) and targets \(targets.shape) differ")
        }
        let y = try output([rows])
        try backend.bernoulliNLL(logits: logits.buffer, targets: targets.buffer, rows: rows, output: y)
        return record([rows], y, inputs: [logits, targets]) { [backend] gy in
            let dl = try backend.makeBuffer(count: logits.count)
            try backend.bernoulliNLLBackward(logits: logits.buffer, targets: targets.buffer, gradOutput: gy, gradLogits: dl)
            return [dl, nil]
        }
    }

    /// Rate of a diagonal Gaussian encoder against N(0, I): `½ Σ μ² + σ² − 1 − ln σ²` per example.
    /// `scale` is σ (a standard deviation, not a variance).
    public func gaussianKL(mean: Tensor, scale: Tensor) throws -> Tensor {
        guard mean.shape == scale.shape, let rows = mean.shape.first else {
            throw ComputeError.invalidArgument(op: "gaussianKL", reason: "mean \(mean.shape) and scale \(scale.shape) differ")
        }
        let y = try output([rows])
        try backend.gaussianKL(mean: mean.buffer, scale: scale.buffer, rows: rows, output: y)
        return record([rows], y, inputs: [mean, scale]) { [backend] gy in
            let dm = try backend.makeBuffer(count: mean.count), ds = try backend.makeBuffer(count: scale.count)
            try backend.gaussianKLBackward(mean: mean.buffer, scale: scale.buffer, gradOutput: gy, gradMean: dm, gradScale: ds)
            return [dm, ds]
        }
    }
}
