import RDCompute

extension BenchCase {
    /// The Echo op's benchmark shapes (B, d, D) from issue 4 / seed-spec §2.4.
    static let echoShapes: [(batch: Int, terms: Int, dimensions: Int)] = [(100, 99, 32), (100, 99, 64), (512, 128, 64), (1000, 999, 32)]

    /// Echo forward + backward. Traffic model: each term reads f and log s of one member
    /// (2·D floats) in the forward pass and twice in the backward pass (Horner values, then
    /// the running product), so 24·B·d·D bytes; FLOPs: ~2 per term-latent forward, ~6 backward.
    static var echoCases: [BenchCase] {
        echoShapes.map { b, d, dims in
            let shape = EchoShape(batch: b, dimensions: dims, terms: d)
            let terms = Double(b * d * dims)
            return BenchCase(name: "echo fwd+bwd B=\(b) d=\(d) D=\(dims)", flops: 8 * terms, bytes: 24 * terms) { backend in
                let f = try random(backend, shape.count, stream: 1)
                let logScale = try backend.makeBuffer(count: shape.count)
                try backend.fill(logScale, with: -0.2)
                let gradZ = try random(backend, shape.count, stream: 2)
                let table = try EchoIndexTable.random(batch: b, terms: d, sampling: .withoutReplacement, seed: 1, stream: 0)
                let indices = try backend.makeIndexBuffer(table.words)
                let noise = try backend.makeBuffer(count: shape.count), z = try backend.makeBuffer(count: shape.count)
                let gradF = try backend.makeBuffer(count: shape.count), gradLogScale = try backend.makeBuffer(count: shape.count)
                return {
                    try backend.echoForward(shape, f: f, logScale: logScale, indices: indices, noise: noise, z: z)
                    try backend.echoBackward(shape, f: f, logScale: logScale, indices: indices, noise: noise, gradZ: gradZ,
                        gradF: gradF, gradLogScale: gradLogScale)
                }
            }
        }
    }

    /// Device memory bandwidth: copying 64 MiB reads and writes 128 MiB.
    static let copyBandwidth = BenchCase(name: "copy 64 MiB (memory bandwidth)", flops: 0, bytes: 2 * 64 * 1_048_576) { backend in
        let count = 16 * 1_048_576
        let source = try random(backend, count, stream: 1), target = try backend.makeBuffer(count: count)
        return { try backend.copy(source, to: target) }
    }
}
