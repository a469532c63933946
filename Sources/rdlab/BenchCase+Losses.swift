import RDCompute
import RDLab

extension BenchCase {
    /// The two-Gaussian KL cases' shape.
    static let klPairShape = [256, 256]

    /// The KL between two diagonal Gaussians at [256, 256], forward and backward into all four
    /// inputs: the fused ops alone (GB/s by the 48 bytes per element they must move: four
    /// inputs read twice, four gradients written), the fused graph op, and the same KL built
    /// from elementwise graph ops (sub, mul, div, log, sum), each graph summed to a scalar loss
    /// and run backward.
    static var klPairCases: [BenchCase] {
        let (rows, n) = (klPairShape[0], klPairShape[0] * klPairShape[1])
        return [
            BenchCase(name: "gaussian KL pair 256x256 fwd+bwd (fused ops)", flops: 0, bytes: Double(48 * n)) { backend in
                let x = try klPairInputs(backend)
                let output = try backend.makeBuffer(count: rows), gradOutput = try backend.makeBuffer(count: rows)
                try backend.fill(gradOutput, with: 1)
                let grads = try (0..<4).map { _ in try backend.makeBuffer(count: n) }
                return {
                    try backend.gaussianKLPair(meanQ: x[0], scaleQ: x[1], meanP: x[2], scaleP: x[3], rows: rows, output: output)
                    try backend.gaussianKLPairBackward(meanQ: x[0], scaleQ: x[1], meanP: x[2], scaleP: x[3],
                        gradOutput: gradOutput, gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2],
                        gradScaleP: grads[3])
                }
            },
            BenchCase(name: "gaussian KL pair 256x256 fwd+bwd (graph, fused op)", flops: 0) { backend in
                try klPairGraphStep(backend, composed: false)
            },
            BenchCase(name: "gaussian KL pair 256x256 fwd+bwd (graph, composed ops)", flops: 0) { backend in
                try klPairGraphStep(backend, composed: true)
            },
        ]
    }

    /// μq, σq, μp, σp: normal means, scales in [0.5, 1.5).
    static func klPairInputs(_ backend: any Backend) throws -> [DeviceBuffer] {
        let n = klPairShape[0] * klPairShape[1]
        func scales(_ offset: Int) -> [Float] { (0..<n).map { 0.5 + Float(($0 * 37 + offset) % 101) / 101 } }
        return [try random(backend, n, stream: 1), try backend.makeBuffer(scales(0)), try random(backend, n, stream: 2),
            try backend.makeBuffer(scales(50))]
    }

    /// One graph per call: the KL of four leaf tensors that require gradients, summed, then backward.
    static func klPairGraphStep(_ backend: any Backend, composed: Bool) throws -> () throws -> Void {
        let buffers = try klPairInputs(backend)
        return {
            let g = Graph(backend: backend)
            let t = buffers.map { Tensor(shape: klPairShape, buffer: $0, requiresGradient: true) }
            let (meanQ, scaleQ, meanP, scaleP) = (t[0], t[1], t[2], t[3])
            let kl: Tensor
            if composed {
                let d = try g.sub(meanQ, meanP)
                let numerator = try g.add(try g.mul(scaleQ, scaleQ), try g.mul(d, d))
                let quotient = try g.div(numerator, try g.scale(try g.mul(scaleP, scaleP), by: 2))
                let terms = try g.sub(try g.add(try g.sub(try g.log(scaleP), try g.log(scaleQ)), quotient), try g.scalar(0.5))
                kl = try g.sum(terms, axes: [1])
            } else {
                kl = try g.gaussianKL(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP, scaleP: scaleP)
            }
            try g.backward(from: try g.sum(kl, axes: [0]))
        }
    }

    /// The AR(1)-prior KL's shape: a batch of 100 MNIST images, one 8-dimensional latent per row.
    static let ar1KLShape = [100, 28, 8]

    /// The AR(1)-prior KL at [100, 28, 8], forward and backward into μ and σ: the fused ops
    /// (GB/s by the 24 bytes per element they must move: μ and σ read by each pass, two
    /// gradients written) and the graph op summed to a scalar loss and run backward.
    static var ar1KLCases: [BenchCase] {
        let (rows, n) = (ar1KLShape[0], ar1KLShape.reduce(1, *))
        return [
            BenchCase(name: "ar1 KL [100, 28, 8] fwd+bwd (fused ops)", flops: 0, bytes: Double(24 * n)) { backend in
                let (mean, scale, alpha) = try ar1KLInputs(backend)
                let output = try backend.makeBuffer(count: rows), gradOutput = try backend.makeBuffer(count: rows)
                try backend.fill(gradOutput, with: 1)
                let gradMean = try backend.makeBuffer(count: n), gradScale = try backend.makeBuffer(count: n)
                return {
                    try backend.ar1KL(mean: mean, scale: scale, alpha: alpha, rows: rows, output: output)
                    try backend.ar1KLBackward(mean: mean, scale: scale, alpha: alpha, gradOutput: gradOutput,
                        gradMean: gradMean, gradScale: gradScale)
                }
            },
            BenchCase(name: "ar1 KL [100, 28, 8] fwd+bwd (graph)", flops: 0) { backend in
                let (mean, scale, alpha) = try ar1KLInputs(backend)
                return {
                    let g = Graph(backend: backend)
                    let kl = try g.ar1KL(mean: Tensor(shape: ar1KLShape, buffer: mean, requiresGradient: true),
                        scale: Tensor(shape: ar1KLShape, buffer: scale, requiresGradient: true),
                        alpha: Tensor(shape: [ar1KLShape[2]], buffer: alpha))
                    try g.backward(from: try g.sum(kl, axes: [0]))
                }
            },
        ]
    }

    /// μ normal, σ in [0.5, 1.5), α = 0.5 … 0.95 (the δ-VAE's spacing).
    static func ar1KLInputs(_ backend: any Backend) throws -> (mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer) {
        let n = ar1KLShape.reduce(1, *)
        let alphas = AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: ar1KLShape[2]).alphas.map(Float.init)
        return (try random(backend, n, stream: 3), try backend.makeBuffer((0..<n).map { 0.5 + Float(($0 * 37) % 101) / 101 }),
            try backend.makeBuffer(alphas))
    }
}
