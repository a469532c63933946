import Foundation

/// Fused per-example losses on the CPU (rows = examples), Double row sums.
enum CPULoss {
    static func bernoulliNLL(logits: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>, rows: Int,
        columns: Int, output: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(rows) { range, _ in
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
        Parallel.forEachRange(rows) { range, _ in
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
        Parallel.forEachRange(rows) { range, _ in
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
        Parallel.forEachRange(rows) { range, _ in
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
        Parallel.forEachRange(rows) { range, _ in
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
        Parallel.forEachRange(rows) { range, _ in
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
}
