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
}
