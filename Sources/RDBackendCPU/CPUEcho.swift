import Foundation
import RDCompute

/// Echo noise on the CPU (same maths as `Kernels/echo.cl`, seed-spec §2.4), 16 latents at a
/// time in `SIMD16<Float>` over copies of f and s = exp(log s) padded to a multiple of 16.
///
/// Forward: per example, Horner from the last term, `acc = f[k] + s[k]·acc`: O(B·d·D) work
/// and no B×B×D tensor. Backward: per example, the Horner values `H_l` (suffix sums), then a
/// forward scan of the running product `p_l`, scattering `G·p_l` into ∂f and
/// `G·p_{l+1}·H_{l+1}` into ∂log s of member `P[i,l]`. Products below 1e-30 are flushed to
/// zero (their terms are far below float resolution, and denormal arithmetic is ~100×
/// slower). Fixed example ranges keep private sums, added in range order.
enum CPUEcho {
    typealias V = SIMD16<Float>
    static let tiny = V(repeating: 1e-30)

    /// `x` as rows of `padded` floats, zero-filled; `exponentiate` applies exp.
    static func padded(_ x: UnsafeMutablePointer<Float>, _ shape: EchoShape, _ width: Int, exponentiate: Bool = false)
        -> UnsafeMutablePointer<Float> {
        let out = UnsafeMutablePointer<Float>.allocateVectors(shape.batch * width)
        out.update(repeating: 0, count: shape.batch * width)
        for i in 0..<shape.batch {
            for j in 0..<shape.dimensions {
                let v = x[i * shape.dimensions + j]
                out[i * width + j] = exponentiate ? Foundation.exp(v) : v
            }
        }
        return out
    }

    static func forward(_ shape: EchoShape, f: UnsafeMutablePointer<Float>, logScale: UnsafeMutablePointer<Float>,
        indices: UnsafePointer<Int32>, noise: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>) {
        let dims = shape.dimensions, terms = shape.terms, width = (dims + 15) / 16 * 16
        let fp = padded(f, shape, width), sp = padded(logScale, shape, width, exponentiate: true)
        defer { fp.deallocate(); sp.deallocate() }
        Parallel.forEachRange(shape.batch, EchoRows(fp: fp, sp: sp, noise: noise, z: z, indices: indices, dims: dims,
            terms: terms, width: width))
    }

    /// Echo noise and z = f + s·noise for a range of examples.
    struct EchoRows: ParallelLoopBody {
        let fp, sp, noise, z: UnsafeMutablePointer<Float>
        let indices: UnsafePointer<Int32>
        let dims, terms, width: Int

        func callAsFunction(_ rows: Range<Int>, _ worker: Int) {
            var out = [Float](repeating: 0, count: width)
            for i in rows {
                for c in stride(from: 0, to: width, by: 16) {
                    var acc = V()
                    for l in stride(from: terms - 1, through: 0, by: -1) {
                        let k = Int(indices[i * terms + l]) * width + c
                        acc = load16(fp + k).addingProduct(load16(sp + k), acc)
                    }
                    out.withUnsafeMutableBufferPointer { store16(acc, $0.baseAddress! + c) }
                }
                for j in 0..<dims {
                    noise[i * dims + j] = out[j]
                    z[i * dims + j] = fp[i * width + j] + sp[i * width + j] * out[j]
                }
            }
        }
    }

    static func backward(_ shape: EchoShape, f: UnsafeMutablePointer<Float>, logScale: UnsafeMutablePointer<Float>,
        indices: UnsafePointer<Int32>, noise: UnsafeMutablePointer<Float>, gradZ: UnsafeMutablePointer<Float>,
        gradF: UnsafeMutablePointer<Float>, gradLogScale: UnsafeMutablePointer<Float>) {
        let dims = shape.dimensions, terms = shape.terms, width = (dims + 15) / 16 * 16
        let fp = padded(f, shape, width), sp = padded(logScale, shape, width, exponentiate: true)
        let gz = padded(gradZ, shape, width)
        defer { fp.deallocate(); sp.deallocate(); gz.deallocate() }
        let plane = shape.batch * width
        // per part (a fixed range of examples): ∂f sums and ∂log s sums [B × width each], Horner values [(d+1) × 16]
        let parts = min(Parallel.threads * Parallel.chunksPerWorker, shape.batch), perPart = 2 * plane + (terms + 1) * 16
        let scratchCount = parts * perPart, scratch = ThreadScratch.current.take(Float.self, scratchCount)
        defer { ThreadScratch.current.give(scratch, scratchCount) }
        scratch.update(repeating: 0, count: parts * perPart)
        Parallel.forEachRange(parts, EchoGradientParts(fp: fp, sp: sp, gz: gz, scratch: scratch, indices: indices,
            batch: shape.batch, terms: terms, width: width, plane: plane, parts: parts, perPart: perPart))
        for i in 0..<shape.batch {
            for j in 0..<dims {
                let e = i * dims + j, at = i * width + j
                var df = gradZ[e], dls = gradZ[e] * sp[at] * noise[e]
                for part in 0..<parts {
                    df += scratch[part * perPart + at]
                    dls += scratch[part * perPart + plane + at]
                }
                gradF[e] = df
                gradLogScale[e] = dls
            }
        }
    }

    /// Per part (a fixed range of examples): sums of ∂f and ∂log s in the part's scratch.
    struct EchoGradientParts: ParallelLoopBody {
        let fp, sp, gz, scratch: UnsafeMutablePointer<Float>
        let indices: UnsafePointer<Int32>
        let batch, terms, width, plane, parts, perPart: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for part in range {
                let sumF = scratch + part * perPart, sumLS = sumF + plane, horner = sumLS + plane
                for i in (batch * part / parts)..<(batch * (part + 1) / parts) {
                    let row = indices + i * terms
                    for c in stride(from: 0, to: width, by: 16) {
                        let g = load16(gz + i * width + c) * load16(sp + i * width + c)
                        var h = V()
                        store16(h, horner + terms * 16)
                        for l in stride(from: terms - 1, through: 0, by: -1) {
                            let k = Int(row[l]) * width + c
                            h = load16(fp + k).addingProduct(load16(sp + k), h)
                            store16(h, horner + l * 16)
                        }
                        var p = V(repeating: 1)
                        for l in 0..<terms {
                            let k = Int(row[l]) * width + c
                            store16(load16(sumF + k).addingProduct(g, p), sumF + k)
                            p *= load16(sp + k)
                            p.replace(with: 0, where: p .< tiny)
                            store16(load16(sumLS + k).addingProduct(g * p, load16(horner + (l + 1) * 16)), sumLS + k)
                        }
                    }
                }
            }
        }
    }
}

// MARK: Echo noise on the CPU backend

extension CPUBackend {
    public func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer {
        let buffer = try makeBuffer(count: words.count)
        let p = try pointer(buffer)
        words.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return buffer
    }

    /// The words of an index buffer.
    func words(_ buffer: DeviceBuffer) throws -> UnsafePointer<Int32> {
        UnsafeRawPointer(try pointer(buffer)).assumingMemoryBound(to: Int32.self)
    }

    public func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoForward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (z, "z"))
        CPUEcho.forward(shape, f: try pointer(f), logScale: try pointer(logScale), indices: try words(indices),
            noise: try pointer(noise), z: try pointer(z))
    }

    public func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoBackward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (gradZ, "gradZ"), (gradF, "gradF"), (gradLogScale, "gradLogScale"))
        CPUEcho.backward(shape, f: try pointer(f), logScale: try pointer(logScale), indices: try words(indices),
            noise: try pointer(noise), gradZ: try pointer(gradZ), gradF: try pointer(gradF),
            gradLogScale: try pointer(gradLogScale))
    }
}
