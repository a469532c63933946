import Foundation
import RDCompute


/// Echo noise forward and backward against the naive Double formulas of seed-spec §2.4.
extension ParityCase {
    public static let echoShapes: [(EchoShape, EchoIndexTable.Sampling)] = [
        (EchoShape(batch: 1, dimensions: 3, terms: 0), .withoutReplacement),  // B = 1: no other member, E = 0
        (EchoShape(batch: 5, dimensions: 4, terms: 4), .withoutReplacement),  // every other member once
        (EchoShape(batch: 7, dimensions: 5, terms: 3), .withoutReplacement),  // d < B − 1
        (EchoShape(batch: 6, dimensions: 17, terms: 10), .withReplacement),   // repeats within a row, d > B − 1
        (EchoShape(batch: 3, dimensions: 70, terms: 2), .withReplacement),    // several work-groups per row
        (EchoShape(batch: 100, dimensions: 32, terms: 99), .withoutReplacement),  // the paper's setting
    ]

    public static var echoCases: [ParityCase] {
        echoShapes.enumerated().flatMap { index, item in
            let (shape, sampling) = item
            return [
                ParityCase(.echoForward, name: "echo forward \(shape) \(sampling.rawValue) replacement", tolerance: accumulating) { backend in
                    let inputs = try EchoInputs(shape, sampling, seed: UInt64(500 + index))
                    let (noise, z) = (try backend.makeBuffer(count: shape.count), try backend.makeBuffer(count: shape.count))
                    try backend.echoForward(shape, f: try backend.makeBuffer(inputs.f), logScale: try backend.makeBuffer(inputs.logScale),
                        indices: try backend.makeIndexBuffer(inputs.table.words), noise: noise, z: z)
                    let reference = Reference.echoForward(shape, inputs)
                    return (try backend.download(noise) + backend.download(z), reference.noise + reference.z)
                },
                ParityCase(.echoBackward, name: "echo backward \(shape) \(sampling.rawValue) replacement", tolerance: accumulating) { backend in
                    let inputs = try EchoInputs(shape, sampling, seed: UInt64(600 + index))
                    let f = try backend.makeBuffer(inputs.f), logScale = try backend.makeBuffer(inputs.logScale)
                    let indices = try backend.makeIndexBuffer(inputs.table.words)
                    let (noise, z) = (try backend.makeBuffer(count: shape.count), try backend.makeBuffer(count: shape.count))
                    try backend.echoForward(shape, f: f, logScale: logScale, indices: indices, noise: noise, z: z)
                    // outputs start with garbage: the op overwrites them
                    let gradF = try backend.makeBuffer(inputs.gradZ), gradLogScale = try backend.makeBuffer(inputs.gradZ)
                    try backend.echoBackward(shape, f: f, logScale: logScale, indices: indices, noise: noise,
                        gradZ: try backend.makeBuffer(inputs.gradZ), gradF: gradF, gradLogScale: gradLogScale)
                    let reference = Reference.echoBackward(shape, inputs)
                    return (try backend.download(gradF) + backend.download(gradLogScale), reference.f + reference.logScale)
                },
            ]
        }
    }
}

/// Random inputs of an echo case: |f| ≤ 1, log s = log 0.9 + log σ(a), an upstream gradient.
public struct EchoInputs {
    public let f: [Float], logScale: [Float], gradZ: [Float]
    public let table: EchoIndexTable

    public init(_ shape: EchoShape, _ sampling: EchoIndexTable.Sampling, seed: UInt64) throws {
        var data = TestData(seed: seed)
        f = data.values(shape.count)
        logScale = data.values(shape.count, in: -4...4).map { a in Float(Foundation.log(0.9) - Foundation.log1p(Foundation.exp(-Double(a)))) }
        gradZ = data.values(shape.count)
        table = try EchoIndexTable.random(batch: shape.batch, terms: shape.terms, sampling: sampling, seed: seed, stream: 3)
    }
}

extension Reference {
    /// p[i][l][j] = Π_{m<l} s[P[i,m], j] for l = 0 … d.
    public static func echoProducts(_ shape: EchoShape, _ x: EchoInputs) -> [[[Double]]] {
        let (dims, terms) = (shape.dimensions, shape.terms)
        return (0..<shape.batch).map { i in
            var p = [[Double]](repeating: [Double](repeating: 1, count: dims), count: terms + 1)
            for l in 0..<terms {
                let k = Int(x.table.indices[i * terms + l])
                for j in 0..<dims { p[l + 1][j] = p[l][j] * Foundation.exp(Double(x.logScale[k * dims + j])) }
            }
            return p
        }
    }

    public static func echoForward(_ shape: EchoShape, _ x: EchoInputs) -> (noise: [Double], z: [Double]) {
        let (dims, terms) = (shape.dimensions, shape.terms)
        let p = echoProducts(shape, x)
        var noise = [Double](repeating: 0, count: shape.count), z = noise
        for i in 0..<shape.batch {
            for j in 0..<dims {
                var e = 0.0
                for l in 0..<terms { e += p[i][l][j] * Double(x.f[Int(x.table.indices[i * terms + l]) * dims + j]) }
                noise[i * dims + j] = e
                z[i * dims + j] = Double(x.f[i * dims + j]) + Foundation.exp(Double(x.logScale[i * dims + j])) * e
            }
        }
        return (noise, z)
    }

    /// ∂L/∂f and ∂L/∂log s for L = Σ gradZ ⊙ z, term by term (O(B·d²·D)).
    public static func echoBackward(_ shape: EchoShape, _ x: EchoInputs) -> (f: [Double], logScale: [Double]) {
        let (dims, terms) = (shape.dimensions, shape.terms)
        let p = echoProducts(shape, x)
        let noise = echoForward(shape, x).noise
        var gf = x.gradZ.map(Double.init), gls = [Double](repeating: 0, count: shape.count)
        for e in 0..<shape.count { gls[e] = Double(x.gradZ[e]) * Foundation.exp(Double(x.logScale[e])) * noise[e] }
        for i in 0..<shape.batch {
            for j in 0..<dims {
                let g = Double(x.gradZ[i * dims + j]) * Foundation.exp(Double(x.logScale[i * dims + j]))
                for m in 0..<terms {
                    let k = Int(x.table.indices[i * terms + m])
                    gf[k * dims + j] += g * p[i][m][j]
                    var suffix = 0.0
                    for l in (m + 1)..<max(terms, m + 1) {
                        suffix += p[i][l][j] * Double(x.f[Int(x.table.indices[i * terms + l]) * dims + j])
                    }
                    gls[k * dims + j] += g * suffix
                }
            }
        }
        return (gf, gls)
    }
}
