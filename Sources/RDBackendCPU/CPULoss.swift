import Foundation
import RDCompute

/// Fused per-example losses on the CPU (rows = examples), Double row sums.
enum CPULoss {
    static func bernoulliNLL(logits: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>, rows: Int,
        columns: Int, output: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(rows, BernoulliNLLRows(logits: logits, targets: targets, output: output,
            columns: columns))
    }

    /// Rows of the Bernoulli NLL.
    struct BernoulliNLLRows: ParallelLoopBody {
        let logits, targets, output: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                var sum = 0.0
                for c in 0..<columns {
                    let l = logits[r * columns + c]
                    let x = targets[r * columns + c]
                    let softplus = max(l, 0) + log1p(exp(-abs(l)))
                    sum += Double(softplus - x * l)
                }
                output[r] = Float(sum)
            }
        }
    }

    static func bernoulliNLLBackward(logits: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradLogits: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        Parallel.forEachRange(rows, BernoulliNLLGradientRows(logits: logits, targets: targets, gradOutput: gradOutput,
            gradLogits: gradLogits, columns: columns))
    }

    /// Rows of the Bernoulli NLL's gradient.
    struct BernoulliNLLGradientRows: ParallelLoopBody {
        let logits, targets, gradOutput, gradLogits: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                let g = gradOutput[r]
                for c in 0..<columns {
                    let i = r * columns + c
                    gradLogits[i] = (CPUElementwise.sigmoid(logits[i]) - targets[i]) * g
                }
            }
        }
    }

    static func gaussianKL(mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>, rows: Int,
        columns: Int, output: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(rows, GaussianKLRows(mean: mean, scale: scale, output: output, columns: columns))
    }

    /// Rows of the KL to the standard normal.
    struct GaussianKLRows: ParallelLoopBody {
        let mean, scale, output: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                var sum = 0.0
                for c in 0..<columns {
                    let mu = mean[r * columns + c]
                    let sigma = scale[r * columns + c]
                    sum += Double(mu * mu + sigma * sigma - 1 - 2 * log(sigma))
                }
                output[r] = Float(0.5 * sum)
            }
        }
    }

    static func gaussianKLBackward(mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
        gradOutput: UnsafeMutablePointer<Float>, gradMean: UnsafeMutablePointer<Float>,
        gradScale: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        Parallel.forEachRange(rows, GaussianKLGradientRows(mean: mean, scale: scale, gradOutput: gradOutput,
            gradMean: gradMean, gradScale: gradScale, columns: columns))
    }

    /// Rows of the standard-normal KL's gradients.
    struct GaussianKLGradientRows: ParallelLoopBody {
        let mean, scale, gradOutput, gradMean, gradScale: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                let g = gradOutput[r]
                for c in 0..<columns {
                    let i = r * columns + c
                    gradMean[i] = mean[i] * g
                    gradScale[i] = (scale[i] - 1 / scale[i]) * g
                }
            }
        }
    }

    /// One column's KL(N(μq, σq²) ‖ N(μp, σp²)) in a form that is exactly 0 where q = p:
    /// `((σq − σp)(σq + σp) + (μq − μp)²) / (2 σp²) − ln(1 + (σq − σp)/σp)`.
    @inline(__always)
    static func klPairTerm(meanQ: Float, scaleQ: Float, meanP: Float, scaleP: Float) -> Float {
        let d = meanQ - meanP
        let excess = (scaleQ - scaleP) * (scaleQ + scaleP) + d * d
        return 0.5 * excess / (scaleP * scaleP) - log1p((scaleQ - scaleP) / scaleP)
    }

    static func gaussianKLPair(meanQ: UnsafeMutablePointer<Float>, scaleQ: UnsafeMutablePointer<Float>,
        meanP: UnsafeMutablePointer<Float>, scaleP: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        output: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(rows, GaussianKLPairRows(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP, scaleP: scaleP,
            output: output, columns: columns))
    }

    /// Rows of the KL between two diagonal Gaussians.
    struct GaussianKLPairRows: ParallelLoopBody {
        let meanQ, scaleQ, meanP, scaleP, output: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                var sum = 0.0
                for c in 0..<columns {
                    let i = r * columns + c
                    sum += Double(klPairTerm(meanQ: meanQ[i], scaleQ: scaleQ[i], meanP: meanP[i], scaleP: scaleP[i]))
                }
                output[r] = Float(sum)
            }
        }
    }

    /// `dμq = g·(μq − μp)/σp²`, `dμp = −dμq`, `dσq = g·(σq/σp² − 1/σq) = g·(σq − σp)(σq + σp)/(σq σp²)`,
    /// `dσp = g·(1/σp − (σq² + (μq − μp)²)/σp³) = −g·((σq − σp)(σq + σp) + (μq − μp)²)/σp³`.
    static func gaussianKLPairBackward(meanQ: UnsafeMutablePointer<Float>, scaleQ: UnsafeMutablePointer<Float>,
        meanP: UnsafeMutablePointer<Float>, scaleP: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>,
        gradMeanQ: UnsafeMutablePointer<Float>, gradScaleQ: UnsafeMutablePointer<Float>,
        gradMeanP: UnsafeMutablePointer<Float>, gradScaleP: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        Parallel.forEachRange(rows, GaussianKLPairGradientRows(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP,
            scaleP: scaleP, gradOutput: gradOutput, gradMeanQ: gradMeanQ, gradScaleQ: gradScaleQ, gradMeanP: gradMeanP,
            gradScaleP: gradScaleP, columns: columns))
    }

    /// Rows of the gradients of the KL between two diagonal Gaussians.
    struct GaussianKLPairGradientRows: ParallelLoopBody {
        let meanQ, scaleQ, meanP, scaleP, gradOutput, gradMeanQ, gradScaleQ, gradMeanP, gradScaleP: UnsafeMutablePointer<Float>
        let columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                let g = gradOutput[r]
                for c in 0..<columns {
                    let i = r * columns + c
                    let sq = scaleQ[i], sp = scaleP[i], d = meanQ[i] - meanP[i]
                    let variance = sp * sp
                    let spread = (sq - sp) * (sq + sp)
                    let dMean = g * d / variance
                    gradMeanQ[i] = dMean
                    gradMeanP[i] = -dMean
                    gradScaleQ[i] = g * spread / (sq * variance)
                    gradScaleP[i] = -g * (spread + d * d) / (variance * sp)
                }
            }
        }
    }

    /// Twice term t of eq. 3 for element `i` (step t, dimension k of its row): for t = 0,
    /// `σ² − 2 ln σ − 1 + μ²`; for t > 0, with c = (1 − α)(1 + α),
    /// `(σ_t² + (μ_t − α μ_{t−1})² + α² σ_{t−1}²)/c − 2 ln σ_t + ln c − 1`
    /// (= `f(σ_t²/c) + ((μ_t − α μ_{t−1})² + α² σ_{t−1}²)/c`). `dimensions` is the step stride.
    @inline(__always)
    static func ar1Term(mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>, alpha: Float, i: Int,
        first: Bool, dimensions: Int) -> Float {
        let mu = mean[i], sigma = scale[i]
        if first { return sigma * sigma - 2 * log(sigma) - 1 + mu * mu }
        let c = (1 - alpha) * (1 + alpha)
        let e = mu - alpha * mean[i - dimensions], previous = alpha * scale[i - dimensions]
        return (sigma * sigma + e * e + previous * previous) / c - 2 * log(sigma) + log(c) - 1
    }

    static func ar1KL(mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
        alpha: UnsafeMutablePointer<Float>, rows: Int, steps: Int, dimensions: Int, output: UnsafeMutablePointer<Float>) {
        let columns = steps * dimensions
        Parallel.forEachRange(rows, AR1KLRows(mean: mean, scale: scale, alpha: alpha, output: output,
            dimensions: dimensions, columns: columns))
    }

    /// Rows of the AR(1)-prior KL.
    struct AR1KLRows: ParallelLoopBody {
        let mean, scale, alpha, output: UnsafeMutablePointer<Float>
        let dimensions, columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                var sum = 0.0
                for c in 0..<columns {
                    let k = c % dimensions
                    sum += Double(ar1Term(mean: mean, scale: scale, alpha: alpha[k], i: r * columns + c,
                        first: c < dimensions, dimensions: dimensions))
                }
                output[r] = Float(0.5 * sum)
            }
        }
    }

    /// With c = 1 − α²: `dμ_t = g·([t = 0] μ_t + [t > 0] (μ_t − α μ_{t−1})/c − [t < n−1] α (μ_{t+1} − α μ_t)/c)`,
    /// `dσ_t = g·(σ_t ([t = 0] + [t > 0]/c + [t < n−1] α²/c) − 1/σ_t)` (0-based steps).
    static func ar1KLBackward(mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
        alpha: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>, gradMean: UnsafeMutablePointer<Float>,
        gradScale: UnsafeMutablePointer<Float>, rows: Int, steps: Int, dimensions: Int) {
        let columns = steps * dimensions
        Parallel.forEachRange(rows, AR1KLGradientRows(mean: mean, scale: scale, alpha: alpha, gradOutput: gradOutput,
            gradMean: gradMean, gradScale: gradScale, steps: steps, dimensions: dimensions, columns: columns))
    }

    /// Rows of the AR(1)-prior KL's gradients.
    struct AR1KLGradientRows: ParallelLoopBody {
        let mean, scale, alpha, gradOutput, gradMean, gradScale: UnsafeMutablePointer<Float>
        let steps, dimensions, columns: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                let g = gradOutput[r]
                for column in 0..<columns {
                    let i = r * columns + column
                    let t = column / dimensions, a = alpha[column % dimensions]
                    let c = (1 - a) * (1 + a)
                    let mu = mean[i], sigma = scale[i]
                    var dMean = mu, precision: Float = 1
                    if t > 0 {
                        dMean = (mu - a * mean[i - dimensions]) / c
                        precision = 1 / c
                    }
                    if t + 1 < steps {
                        dMean -= a * (mean[i + dimensions] - a * mu) / c
                        precision += a * a / c
                    }
                    gradMean[i] = g * dMean
                    gradScale[i] = g * (sigma * precision - 1 / sigma)
                }
            }
        }
    }
}

// MARK: Losses and KL terms on the CPU backend

extension CPUBackend {
    public func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("bernoulliNLL", rows: rows, logits, targets)
        try OpValidation.require(output.count >= rows, "bernoulliNLL", "output holds \(output.count) of \(rows) rows")
        CPULoss.bernoulliNLL(logits: try pointer(logits), targets: try pointer(targets), rows: rows, columns: columns,
            output: try pointer(output))
    }

    public func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("bernoulliNLLBackward", rows: rows, logits, targets, gradLogits)
        CPULoss.bernoulliNLLBackward(logits: try pointer(logits), targets: try pointer(targets),
            gradOutput: try pointer(gradOutput), gradLogits: try pointer(gradLogits), rows: rows, columns: columns)
    }

    public func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKL", rows: rows, mean, scale)
        try OpValidation.require(output.count >= rows, "gaussianKL", "output holds \(output.count) of \(rows) rows")
        CPULoss.gaussianKL(mean: try pointer(mean), scale: try pointer(scale), rows: rows, columns: columns,
            output: try pointer(output))
    }

    public func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("gaussianKLBackward", rows: rows, mean, scale, gradMean, gradScale)
        CPULoss.gaussianKLBackward(mean: try pointer(mean), scale: try pointer(scale),
            gradOutput: try pointer(gradOutput), gradMean: try pointer(gradMean), gradScale: try pointer(gradScale),
            rows: rows, columns: columns)
    }

    public func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKLPair", rows: rows, meanQ, scaleQ, meanP, scaleP)
        try OpValidation.require(output.count >= rows, "gaussianKLPair", "output holds \(output.count) of \(rows) rows")
        CPULoss.gaussianKLPair(meanQ: try pointer(meanQ), scaleQ: try pointer(scaleQ), meanP: try pointer(meanP),
            scaleP: try pointer(scaleP), rows: rows, columns: columns, output: try pointer(output))
    }

    public func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer, gradMeanP: DeviceBuffer,
        gradScaleP: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("gaussianKLPairBackward", rows: rows, meanQ, scaleQ, meanP, scaleP, gradMeanQ,
            gradScaleQ, gradMeanP, gradScaleP)
        CPULoss.gaussianKLPairBackward(meanQ: try pointer(meanQ), scaleQ: try pointer(scaleQ), meanP: try pointer(meanP),
            scaleP: try pointer(scaleP), gradOutput: try pointer(gradOutput), gradMeanQ: try pointer(gradMeanQ),
            gradScaleQ: try pointer(gradScaleQ), gradMeanP: try pointer(gradMeanP), gradScaleP: try pointer(gradScaleP),
            rows: rows, columns: columns)
    }

    public func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KL", rows: rows, alpha: alpha, mean, scale)
        try OpValidation.require(output.count >= rows, "ar1KL", "output holds \(output.count) of \(rows) rows")
        CPULoss.ar1KL(mean: try pointer(mean), scale: try pointer(scale), alpha: try pointer(alpha), rows: rows,
            steps: steps, dimensions: dimensions, output: try pointer(output))
    }

    public func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let rows = gradOutput.count
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KLBackward", rows: rows, alpha: alpha, mean, scale, gradMean,
            gradScale)
        CPULoss.ar1KLBackward(mean: try pointer(mean), scale: try pointer(scale), alpha: try pointer(alpha),
            gradOutput: try pointer(gradOutput), gradMean: try pointer(gradMean), gradScale: try pointer(gradScale),
            rows: rows, steps: steps, dimensions: dimensions)
    }
}
