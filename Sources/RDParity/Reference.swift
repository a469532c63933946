
import Foundation
import RDCompute

/// Naive reference implementations with Double accumulation: the ground truth of the parity suite.
public enum Reference {
    /// C = α·op(A)·op(B) + β·C (C ignored where β = 0), row-major: A is m×k (k×m when
    /// transposed), B is k×n (n×k). Only `rows` of C (all when nil), in their order: checking a
    /// large GEMM needs only a sample of its rows, and the full product is O(m·n·k). Each row
    /// accumulates along B's rows, which runs several times faster than one dot product per
    /// element.
    public static func gemm(_ d: GemmDescriptor, _ a: [Float], _ b: [Float], _ c: [Float], rows: [Int]? = nil) -> [Double] {
        let rows = rows ?? Array(0..<d.m)
        var out = [Double](repeating: 0, count: rows.count * d.n)
        var row = [Double](repeating: 0, count: d.n)
        for (r, i) in rows.enumerated() {
            for j in 0..<d.n { row[j] = 0 }
            for p in 0..<d.k {
                let av = Double(d.transposeA ? a[p * d.m + i] : a[i * d.k + p])
                if d.transposeB {
                    for j in 0..<d.n { row[j] += av * Double(b[j * d.k + p]) }
                } else {
                    let base = p * d.n
                    for j in 0..<d.n { row[j] += av * Double(b[base + j]) }
                }
            }
            for j in 0..<d.n {
                out[r * d.n + j] = Double(d.alpha) * row[j] + (d.beta == 0 ? 0 : Double(d.beta) * Double(c[i * d.n + j]))
            }
        }
        return out
    }

    /// Calls `body(n, oy, ox, ky, kx, iy, ix)` for every tap that lands inside the image.
    public static func taps(_ g: Conv2DGeometry, _ body: (Int, Int, Int, Int, Int, Int, Int) -> Void) {
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideY - g.padTop + ky
                        guard iy >= 0 && iy < g.height else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideX - g.padLeft + kx
                            guard ix >= 0 && ix < g.width else { continue }
                            body(n, oy, ox, ky, kx, iy, ix)
                        }
                    }
                }
            }
        }
    }

    public static func inIndex(_ g: Conv2DGeometry, _ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Int {
        ((n * g.height + y) * g.width + x) * g.inChannels + c
    }

    public static func outIndex(_ g: Conv2DGeometry, _ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Int {
        ((n * g.outHeight + y) * g.outWidth + x) * g.outChannels + c
    }

    public static func filterIndex(_ g: Conv2DGeometry, _ ky: Int, _ kx: Int, _ ci: Int, _ co: Int) -> Int {
        ((ky * g.kernelWidth + kx) * g.inChannels + ci) * g.outChannels + co
    }

    public static func convForward(_ g: Conv2DGeometry, _ input: [Float], _ filter: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: g.outputCount)
        taps(g) { n, oy, ox, ky, kx, iy, ix in
            for ci in 0..<g.inChannels {
                for co in 0..<g.outChannels {
                    out[outIndex(g, n, oy, ox, co)] += Double(input[inIndex(g, n, iy, ix, ci)]) * Double(filter[filterIndex(g, ky, kx, ci, co)])
                }
            }
        }
        return out
    }

    public static func convBackwardData(_ g: Conv2DGeometry, _ gradOut: [Float], _ filter: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: g.inputCount)
        taps(g) { n, oy, ox, ky, kx, iy, ix in
            for ci in 0..<g.inChannels {
                for co in 0..<g.outChannels {
                    out[inIndex(g, n, iy, ix, ci)] += Double(gradOut[outIndex(g, n, oy, ox, co)]) * Double(filter[filterIndex(g, ky, kx, ci, co)])
                }
            }
        }
        return out
    }

    public static func convBackwardFilter(_ g: Conv2DGeometry, _ input: [Float], _ gradOut: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: g.filterCount)
        taps(g) { n, oy, ox, ky, kx, iy, ix in
            for ci in 0..<g.inChannels {
                for co in 0..<g.outChannels {
                    out[filterIndex(g, ky, kx, ci, co)] += Double(input[inIndex(g, n, iy, ix, ci)]) * Double(gradOut[outIndex(g, n, oy, ox, co)])
                }
            }
        }
        return out
    }

    public static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    public static func unary(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .relu: return max(x, 0)
        case .sigmoid: return sigmoid(x)
        case .logSigmoid: return -Foundation.log1p(Foundation.exp(-x))
        case .softplus: return Foundation.log1p(Foundation.exp(x))
        case .tanh: return Foundation.tanh(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .square: return x * x
        case .sqrt: return x.squareRoot()
        }
    }

    public static func derivative(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .relu: return x > 0 ? 1 : 0
        case .sigmoid: return sigmoid(x) * (1 - sigmoid(x))
        case .logSigmoid: return 1 - sigmoid(x)
        case .softplus: return sigmoid(x)
        case .tanh: return 1 - Foundation.tanh(x) * Foundation.tanh(x)
        case .exp: return Foundation.exp(x)
        case .log: return 1 / x
        case .square: return 2 * x
        case .sqrt: return 0.5 / x.squareRoot()
        }
    }

    public static func binary(_ op: BinaryOp, _ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int]) throws -> [Double] {
        let shape = try Broadcast.shape(aShape, bShape)
        let sa = Broadcast.strides(of: aShape, in: shape)
        let sb = Broadcast.strides(of: bShape, in: shape)
        let count = Broadcast.count(shape)
        return (0..<count).map { i in
            var rest = i, oa = 0, ob = 0
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                let c = rest % shape[axis]
                rest /= shape[axis]
                oa += c * sa[axis]
                ob += c * sb[axis]
            }
            let x = Double(a[oa]), y = Double(b[ob])
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mul: return x * y
            case .div: return x / y
            case .max: return max(x, y)
            }
        }
    }

    public static func reduce(_ op: ReduceOp, _ x: [Float], shape: [Int], axes: [Int]) throws -> [Double] {
        let outShape = try Broadcast.reducedShape(shape, axes: axes)
        let kept = shape.indices.filter { !axes.contains($0) }
        var sums = [Double](repeating: 0, count: Broadcast.count(outShape))
        var maxima = [Double](repeating: -.infinity, count: sums.count)
        var counts = [Int](repeating: 0, count: sums.count)
        for i in 0..<x.count {
            var rest = i
            var coordinate = [Int](repeating: 0, count: shape.count)
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                coordinate[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            var o = 0
            for axis in kept { o = o * shape[axis] + coordinate[axis] }
            sums[o] += Double(x[i])
            maxima[o] = max(maxima[o], Double(x[i]))
            counts[o] += 1
        }
        switch op {
        case .sum: return sums
        case .mean: return zip(sums, counts).map { $0 / Double($1) }
        case .max: return maxima
        }
    }

    public static func bernoulliNLL(_ logits: [Float], _ targets: [Float], rows: Int) -> [Double] {
        let columns = logits.count / rows
        return (0..<rows).map { r in
            (0..<columns).reduce(0.0) { sum, c in
                let l = Double(logits[r * columns + c])
                return sum + Foundation.log1p(Foundation.exp(-abs(l))) + max(l, 0) - Double(targets[r * columns + c]) * l
            }
        }
    }

    public static func gaussianKL(_ mean: [Float], _ scale: [Float], rows: Int) -> [Double] {
        let columns = mean.count / rows
        return (0..<rows).map { r in
            0.5 * (0..<columns).reduce(0.0) { sum, c in
                let mu = Double(mean[r * columns + c]), s = Double(scale[r * columns + c])
                return sum + mu * mu + s * s - 1 - 2 * Foundation.log(s)
            }
        }
    }

    /// KL(N(μq, σq²) ‖ N(μp, σp²)) per row by the textbook formula, in Double.
    public static func gaussianKLPair(_ meanQ: [Float], _ scaleQ: [Float], _ meanP: [Float], _ scaleP: [Float], rows: Int) -> [Double] {
        let columns = meanQ.count / rows
        return (0..<rows).map { r in
            (0..<columns).reduce(0.0) { sum, c in
                let i = r * columns + c
                let mq = Double(meanQ[i]), sq = Double(scaleQ[i]), mp = Double(meanP[i]), sp = Double(scaleP[i])
                return sum + Foundation.log(sp) - Foundation.log(sq) + (sq * sq + (mq - mp) * (mq - mp)) / (2 * sp * sp) - 0.5
            }
        }
    }

    /// The gradients of ``gaussianKLPair(_:_:_:_:rows:)`` weighted by `g[r]`, concatenated:
    /// dμq, dσq, dμp, dσp.
    public static func gaussianKLPairBackward(_ meanQ: [Float], _ scaleQ: [Float], _ meanP: [Float], _ scaleP: [Float],
        _ g: [Float]) -> [Double] {
        let columns = meanQ.count / g.count
        var dmq: [Double] = [], dsq: [Double] = [], dmp: [Double] = [], dsp: [Double] = []
        for i in meanQ.indices {
            let mq = Double(meanQ[i]), sq = Double(scaleQ[i]), mp = Double(meanP[i]), sp = Double(scaleP[i])
            let gr = Double(g[i / columns])
            dmq.append(gr * (mq - mp) / (sp * sp))
            dmp.append(-gr * (mq - mp) / (sp * sp))
            dsq.append(gr * (sq / (sp * sp) - 1 / sq))
            dsp.append(gr * (1 / sp - (sq * sq + (mq - mp) * (mq - mp)) / (sp * sp * sp)))
        }
        return dmq + dsq + dmp + dsp
    }

    /// The AR(1)-prior KL of eq. 3 per row of `[rows, n, d]` (d = `alpha.count`) by the
    /// textbook formula with f(u) = u − ln u − 1, in Double.
    public static func ar1KL(_ mean: [Float], _ scale: [Float], _ alpha: [Float], rows: Int) -> [Double] {
        let d = alpha.count, n = mean.count / (rows * d)
        func f(_ u: Double) -> Double { u - Foundation.log(u) - 1 }
        return (0..<rows).map { r in
            var sum = 0.0
            for k in 0..<d {
                let a = Double(alpha[k]), c = 1 - a * a
                func mu(_ t: Int) -> Double { Double(mean[(r * n + t) * d + k]) }
                func variance(_ t: Int) -> Double { Double(scale[(r * n + t) * d + k]) * Double(scale[(r * n + t) * d + k]) }
                sum += f(variance(0)) + mu(0) * mu(0)
                for t in 1..<n {
                    let e = mu(t) - a * mu(t - 1)
                    sum += f(variance(t) / c) + (e * e + a * a * variance(t - 1)) / c
                }
            }
            return 0.5 * sum
        }
    }

    /// The gradients of ``ar1KL(_:_:_:rows:)`` weighted by `g[r]`, concatenated: dμ, dσ (from
    /// the terms each step appears in: its own and the next).
    public static func ar1KLBackward(_ mean: [Float], _ scale: [Float], _ alpha: [Float], _ g: [Float]) -> [Double] {
        let d = alpha.count, rows = g.count, n = mean.count / (rows * d)
        var dm = [Double](repeating: 0, count: mean.count), ds = dm
        for r in 0..<rows {
            for k in 0..<d {
                let a = Double(alpha[k]), c = 1 - a * a, gr = Double(g[r])
                func index(_ t: Int) -> Int { (r * n + t) * d + k }
                for t in 0..<n {
                    let m = Double(mean[index(t)]), s = Double(scale[index(t)])
                    // Term t: f(σ_t²) + μ_t² for t = 0, else f(σ_t²/c) + ((μ_t − α μ_{t−1})² + α² σ_{t−1}²)/c.
                    if t == 0 {
                        dm[index(t)] += gr * m
                        ds[index(t)] += gr * (s - 1 / s)
                    } else {
                        let e = m - a * Double(mean[index(t - 1)])
                        dm[index(t)] += gr * e / c
                        dm[index(t - 1)] -= gr * a * e / c
                        ds[index(t)] += gr * (s / c - 1 / s)
                        ds[index(t - 1)] += gr * a * a * Double(scale[index(t - 1)]) / c
                    }
                }
            }
        }
        return dm + ds
    }
}
