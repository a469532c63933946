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

    /// KL divergence between two diagonal Gaussians per example, summed over the latents:
    /// `Σ ln σp − ln σq + (σq² + (μq − μp)²) / (2 σp²) − ½` → `[batch]`, for
    /// q = N(μq, σq²) and p = N(μp, σp²), all four `[batch, latents]`. Scales are σ (standard
    /// deviations, not variances). One fused pass each way
    /// (``Backend/gaussianKLPair(meanQ:scaleQ:meanP:scaleP:rows:output:)``); the backward pass
    /// computes all four gradients at once and passes on those of inputs that require one.
    public func gaussianKL(meanQ: Tensor, scaleQ: Tensor, meanP: Tensor, scaleP: Tensor) throws -> Tensor {
        guard meanQ.shape == scaleQ.shape, meanQ.shape == meanP.shape, meanQ.shape == scaleP.shape,
            let rows = meanQ.shape.first else {
            throw ComputeError.invalidArgument(op: "gaussianKLPair", reason:
                "meanQ \(meanQ.shape), scaleQ \(scaleQ.shape), meanP \(meanP.shape) and scaleP \(scaleP.shape) differ")
        }
        let y = try output([rows])
        try backend.gaussianKLPair(meanQ: meanQ.buffer, scaleQ: scaleQ.buffer, meanP: meanP.buffer, scaleP: scaleP.buffer,
            rows: rows, output: y)
        let inputs = [meanQ, scaleQ, meanP, scaleP]
        return record([rows], y, inputs: inputs) { [backend] gy in
            // One fused pass writes all four gradients; only those of inputs that require one are passed on.
            let gradients = try inputs.map { try backend.makeBuffer(count: $0.count) }
            try backend.gaussianKLPairBackward(meanQ: meanQ.buffer, scaleQ: scaleQ.buffer, meanP: meanP.buffer,
                scaleP: scaleP.buffer, gradOutput: gy, gradMeanQ: gradients[0], gradScaleQ: gradients[1],
                gradMeanP: gradients[2], gradScaleP: gradients[3])
            return zip(inputs, gradients).map { $0.requiresGradient ? $1 : nil }
        }
    }

    /// KL divergence of a diagonal Gaussian sequence posterior q(z_t|x) = N(μ_t, σ_t²) to the
    /// AR(1) prior z₁ ~ N(0, 1), z_t | z_{t−1} ~ N(α z_{t−1}, 1 − α²) per example (δ-VAE,
    /// seed-spec §9.2, eq. 3), summed over steps and dimensions → `[batch]`:
    ///
    /// `½ Σ_k [ f(σ₁²) + μ₁² + Σ_{t=2}^{n} ( f(σ_t²/(1 − α_k²)) + ((μ_t − α_k μ_{t−1})² + α_k² σ_{t−1}²)/(1 − α_k²) ) ]`,
    /// `f(u) = u − ln u − 1`.
    ///
    /// `mean` and `scale` (σ, standard deviations) are `[batch, steps, dimensions]`; `alpha`
    /// `[dimensions]` holds each dimension's α in (−1, 1) and gets no gradient (a constant).
    /// Its minimum over μ and σ is the committed rate ``AR1Prior/committedRate(steps:)``. One
    /// fused pass each way (``Backend/ar1KL(mean:scale:alpha:rows:output:)``).
    public func ar1KL(mean: Tensor, scale: Tensor, alpha: Tensor) throws -> Tensor {
        guard mean.shape == scale.shape, mean.shape.count == 3, alpha.shape == [mean.shape[2]] else {
            throw ComputeError.invalidArgument(op: "ar1KL", reason:
                "mean \(mean.shape) and scale \(scale.shape) must be one [batch, steps, dimensions] shape and alpha \(alpha.shape) [dimensions]")
        }
        let rows = mean.shape[0]
        let y = try output([rows])
        try backend.ar1KL(mean: mean.buffer, scale: scale.buffer, alpha: alpha.buffer, rows: rows, output: y)
        return record([rows], y, inputs: [mean, scale]) { [backend] gy in
            let dm = try backend.makeBuffer(count: mean.count), ds = try backend.makeBuffer(count: scale.count)
            try backend.ar1KLBackward(mean: mean.buffer, scale: scale.buffer, alpha: alpha.buffer, gradOutput: gy,
                gradMean: dm, gradScale: ds)
            return [dm, ds]
        }
    }
}
