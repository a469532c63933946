import RDCompute

extension BenchCase {
    /// The MADE of an IAF step / MAF at batch 100 (seed-spec §3.1): 64 → 640 → 640 → 640 → 128.
    static let madeLayers: [(String, MaskedDenseShape)] = {
        let d = 64
        let input = MaskedDenseShape.madeInputDegrees(d)
        let hidden = try! MaskedDenseShape.madeHiddenDegrees(units: 640, dimensions: d)
        let output = MaskedDenseShape.madeOutputDegrees(dimensions: d, perDimension: 2)
        return [
            ("64->640", try! MaskedDenseShape(batch: 100, inputDegrees: input, outputDegrees: hidden)),
            ("640->640", try! MaskedDenseShape(batch: 100, inputDegrees: hidden, outputDegrees: hidden)),
            ("640->128", try! MaskedDenseShape(batch: 100, inputDegrees: hidden, outputDegrees: output)),
        ]
    }()

    /// Each MADE layer's forward and backward with block skipping (GFLOP/s of the unmasked
    /// FLOPs), and the same passes as dense GEMMs on pre-masked weights (all FLOPs), to show
    /// what skipping saves.
    static var maskedCases: [BenchCase] {
        madeLayers.flatMap { name, s in
            let dense = 2 * Double(s.batch * s.inputs * s.outputs)
            let forward = GemmDescriptor(m: s.batch, n: s.outputs, k: s.inputs)
            let gradInput = GemmDescriptor(m: s.batch, n: s.inputs, k: s.outputs, transposeB: true)
            let gradWeight = GemmDescriptor(m: s.inputs, n: s.outputs, k: s.batch, transposeA: true)
            return [
                BenchCase(name: "masked dense \(name) fwd", flops: s.flops) { backend in
                    let (x, w, b, y) = try (random(backend, s.batch * s.inputs, stream: 1), random(backend, s.inputs * s.outputs, stream: 2),
                        random(backend, s.outputs, stream: 3), backend.makeBuffer(count: s.batch * s.outputs))
                    return { try backend.maskedDenseForward(s, x: x, weight: w, bias: b, output: y) }
                },
                BenchCase(name: "masked dense \(name) bwd", flops: 2 * s.flops) { backend in
                    let (x, w, gy) = try (random(backend, s.batch * s.inputs, stream: 1), random(backend, s.inputs * s.outputs, stream: 2),
                        random(backend, s.batch * s.outputs, stream: 3))
                    let (dx, dw, db) = try (backend.makeBuffer(count: s.batch * s.inputs), backend.makeBuffer(count: s.inputs * s.outputs),
                        backend.makeBuffer(count: s.outputs))
                    return { try backend.maskedDenseBackward(s, x: x, weight: w, gradOutput: gy, gradInput: dx, gradWeight: dw, gradBias: db) }
                },
                BenchCase(name: "masked dense \(name) fwd as dense gemm", flops: dense) { backend in
                    let (x, w, y) = try (random(backend, s.batch * s.inputs, stream: 1), random(backend, s.inputs * s.outputs, stream: 2),
                        backend.makeBuffer(count: s.batch * s.outputs))
                    return { try backend.gemm(forward, a: x, b: w, c: y) }
                },
                BenchCase(name: "masked dense \(name) bwd as dense gemms", flops: 2 * dense) { backend in
                    let (x, w, gy) = try (random(backend, s.batch * s.inputs, stream: 1), random(backend, s.inputs * s.outputs, stream: 2),
                        random(backend, s.batch * s.outputs, stream: 3))
                    let (dx, dw) = try (backend.makeBuffer(count: s.batch * s.inputs), backend.makeBuffer(count: s.inputs * s.outputs))
                    return {
                        try backend.gemm(gradInput, a: gy, b: w, c: dx)
                        try backend.gemm(gradWeight, a: x, b: gy, c: dw)
                    }
                },
            ]
        }
    }
}
