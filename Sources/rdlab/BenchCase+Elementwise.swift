import RDCompute
import RDLab

extension BenchCase {
    /// Memory-bound ops at the size of the VAE's largest activation (batch 100 × 28 × 28 × 32,
    /// 2.5 M floats) and Adam over the reference VAE's parameter count; GB/s by the bytes each
    /// call must read and write.
    static var elementwiseCases: [BenchCase] {
        let shape = [100, 28, 28, 32]
        let n = Broadcast.count(shape)
        let bytes = Double(4 * n)
        let parameters = 1_048_576
        return [
            BenchCase(name: "unary sigmoid 100x28x28x32", flops: 0, bytes: 2 * bytes) { backend in
                let x = try random(backend, n, stream: 1), y = try backend.makeBuffer(count: n)
                return { try backend.unary(.sigmoid, x, output: y) }
            },
            BenchCase(name: "binary mul 100x28x28x32", flops: 0, bytes: 3 * bytes) { backend in
                let (a, b, y) = try (random(backend, n, stream: 1), random(backend, n, stream: 2), backend.makeBuffer(count: n))
                return { try backend.binary(.mul, a, shape: shape, b, shape: shape, output: y) }
            },
            BenchCase(name: "bias add 100x28x28x32", flops: 0, bytes: 2 * bytes) { backend in
                let (x, bias, y) = try (random(backend, n, stream: 1), random(backend, 32, stream: 2), backend.makeBuffer(count: n))
                return { try backend.biasAdd(x, bias: bias, output: y) }
            },
            BenchCase(name: "bias gradient 100x28x28x32", flops: 0, bytes: bytes) { backend in
                let (gy, gb) = try (random(backend, n, stream: 1), backend.makeBuffer(count: 32))
                return { try backend.biasGradient(gy, gradBias: gb) }
            },
            BenchCase(name: "bias+relu 100x28x28x32", flops: 0, bytes: 2 * bytes) { backend in
                let (x, bias, y) = try (random(backend, n, stream: 1), random(backend, 32, stream: 2), backend.makeBuffer(count: n))
                return { try backend.biasReLU(x, bias: bias, output: y) }
            },
            BenchCase(name: "bias+relu backward 100x28x28x32", flops: 0, bytes: 3 * bytes) { backend in
                let (y, gy, gx, gb) = try (random(backend, n, stream: 1), random(backend, n, stream: 2),
                    backend.makeBuffer(count: n), backend.makeBuffer(count: 32))
                return { try backend.biasReLUBackward(output: y, gradOutput: gy, gradInput: gx, gradBias: gb) }
            },
            BenchCase(name: "reduce sum over pixels 100x784x32", flops: 0, bytes: bytes) { backend in
                let (x, y) = try (random(backend, n, stream: 1), backend.makeBuffer(count: 100 * 32))
                return { try backend.reduce(.sum, x, shape: [100, 784, 32], axes: [1], output: y) }
            },
            BenchCase(name: "adam step 1M parameters", flops: 0, bytes: Double(4 * parameters * 7)) { backend in
                let (p, g, m, v) = try (random(backend, parameters, stream: 1), random(backend, parameters, stream: 2),
                    backend.makeBuffer(count: parameters), backend.makeBuffer(count: parameters))
                try backend.fill(m, with: 0)
                try backend.fill(v, with: 0)
                var step = 0
                return {
                    step += 1
                    try backend.adamStep(AdamParameters(), step: step, parameter: p, gradient: g, firstMoment: m, secondMoment: v)
                }
            },
        ]
    }
}
