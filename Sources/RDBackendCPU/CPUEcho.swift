import Foundation
import RDCompute

/// Echo noise on the CPU (same maths as `Kernels/echo.cl`, seed-spec §2.4).
///
/// Forward: per example, Horner from the last term, `acc = f[k] + s[k]·acc`, vectorised
/// across the latent dimensions; O(B·d·D) work and no B×B×D tensor. Backward: per example,
/// the Horner values `H_l` (suffix sums) then a forward scan of the running product `p_l`,
/// scattering `G·p_l` into ∂f and `G·p_{l+1}·H_{l+1}` into ∂log s of member `P[i,l]`.
/// Threads take example ranges with private gradient sums, added in a fixed order.
enum CPUEcho {
    static func forward(_ shape: EchoShape, f: UnsafeMutablePointer<Float>, logScale: UnsafeMutablePointer<Float>,
        indices: UnsafePointer<Int32>, noise: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>) {
        let dims = shape.dimensions, terms = shape.terms
        let scale = exponentials(logScale, count: shape.count)
        defer { scale.deallocate() }
        Parallel.forEachRange(shape.batch) { rows, _ in
            for i in rows {
                let acc = noise + i * dims
                acc.update(repeating: 0, count: dims)
                for l in stride(from: terms - 1, through: 0, by: -1) {
                    let k = Int(indices[i * terms + l]) * dims
                    for j in 0..<dims { acc[j] = f[k + j] + scale[k + j] * acc[j] }
                }
                for j in 0..<dims { z[i * dims + j] = f[i * dims + j] + scale[i * dims + j] * acc[j] }
            }
        }
    }

    static func backward(_ shape: EchoShape, f: UnsafeMutablePointer<Float>, logScale: UnsafeMutablePointer<Float>,
        indices: UnsafePointer<Int32>, noise: UnsafeMutablePointer<Float>, gradZ: UnsafeMutablePointer<Float>,
        gradF: UnsafeMutablePointer<Float>, gradLogScale: UnsafeMutablePointer<Float>) {
        let dims = shape.dimensions, terms = shape.terms, count = shape.count
        let scale = exponentials(logScale, count: count)
        defer { scale.deallocate() }
        let threads = Parallel.threads
        // per worker: ∂f sums, ∂log s sums [B·D each], Horner values [(d+1)·D], G and p [D each]
        let perWorker = 2 * count + (terms + 3) * dims
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: threads * perWorker)
        defer { scratch.deallocate() }
        scratch.update(repeating: 0, count: threads * perWorker)
        Parallel.forEachRange(shape.batch) { rows, worker in
            let sumF = scratch + worker * perWorker, sumLS = sumF + count
            let horner = sumLS + count, g = horner + (terms + 1) * dims, p = g + dims
            for i in rows {
                for j in 0..<dims { g[j] = gradZ[i * dims + j] * scale[i * dims + j] }
                let last = horner + terms * dims  // H_d = 0
                last.update(repeating: 0, count: dims)
                for l in stride(from: terms - 1, through: 0, by: -1) {
                    let k = Int(indices[i * terms + l]) * dims
                    let h = horner + l * dims, next = h + dims
                    for j in 0..<dims { h[j] = f[k + j] + scale[k + j] * next[j] }
                }
                p.update(repeating: 1, count: dims)
                for l in 0..<terms {
                    let k = Int(indices[i * terms + l]) * dims
                    let next = horner + (l + 1) * dims
                    for j in 0..<dims {
                        sumF[k + j] += g[j] * p[j]
                        p[j] *= scale[k + j]
                        sumLS[k + j] += g[j] * p[j] * next[j]
                    }
                }
            }
        }
        let workers = min(threads, shape.batch)  // the ranges forEachRange made
        for e in 0..<count {
            var df = gradZ[e], dls = gradZ[e] * scale[e] * noise[e]
            for w in 0..<workers {
                df += scratch[w * perWorker + e]
                dls += scratch[w * perWorker + count + e]
            }
            gradF[e] = df
            gradLogScale[e] = dls
        }
    }

    /// `exp(x)` for `count` values, in a new allocation.
    static func exponentials(_ x: UnsafeMutablePointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        for e in 0..<count { out[e] = Foundation.exp(x[e]) }
        return out
    }
}
