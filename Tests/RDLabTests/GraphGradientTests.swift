import RDCompute
import RDLab
import RDTestSupport
import Testing

/// Gradients of whole graphs (layers, broadcasting, losses) against central differences of
/// the same graph's forward pass, on every backend.
@Suite("Autodiff through graphs")
struct GraphGradientTests {
    /// Compares `graph.gradient(of:)` for sampled entries of every parameter with
    /// (L(p + h) − L(p − h)) / 2h, rebuilding the loss from scratch each time.
    static func check(_ backend: any Backend, _ parameters: [Parameter], samples: Int = 6, h: Float = 1e-2,
        tolerance: Double = 2e-2, loss: (Graph) throws -> Tensor) throws {
        let graph = Graph(backend: backend)
        try graph.backward(from: try loss(graph))
        for parameter in parameters {
            let gradient = try backend.download(try #require(graph.gradient(of: parameter.tensor), "no gradient for \(parameter.name)"))
            let original = try backend.download(parameter.tensor.buffer)
            for i in stride(from: 0, to: original.count, by: max(1, original.count / samples)) {
                func evaluate(_ delta: Float) throws -> Double {
                    var values = original
                    values[i] += delta
                    try backend.upload(values, to: parameter.tensor.buffer)
                    let g = Graph(backend: backend)
                    return Double(try g.values(try loss(g))[0])
                }
                let numeric = (try evaluate(h) - evaluate(-h)) / Double(2 * h)
                try backend.upload(original, to: parameter.tensor.buffer)
                let analytic = Double(gradient[i])
                #expect(abs(analytic - numeric) <= tolerance * max(1, abs(numeric)),
                    "\(parameter.name)[\(i)] on \(backend.displayName): analytic \(analytic), numeric \(numeric)")
            }
        }
    }

    @Test(arguments: AvailableBackends.all)
    func convolutionalEncoderDecoder(_ target: BackendUnderTest) throws {
        let b = target.backend
        let conv = try Conv2D("enc", inChannels: 2, outChannels: 3, kernel: 3, stride: 2, activation: .tanh, backend: b, seed: 1)
        let deconv = try ConvTranspose2D("dec", inChannels: 3, outChannels: 2, kernel: 3, stride: 2, activation: .gated,
            backend: b, seed: 1)
        let mean = try Dense("mu", inputs: 72, outputs: 3, backend: b, seed: 1)
        let scale = try Dense("sigma", inputs: 72, outputs: 3, activation: .softplus, backend: b, seed: 1)
        let logits = try Dense("logits", inputs: 72, outputs: 5, backend: b, seed: 1)
        var data = TestData(seed: 5)
        let x = data.values(2 * 6 * 6 * 2), targets = data.values(10, in: 0...1).map { $0.rounded() }
        let parameters = conv.parameters + deconv.parameters + mean.parameters + scale.parameters + logits.parameters
        #expect(parameters.map(\.name).contains("dec.gate.weight"))
        try Self.check(b, parameters) { g in
            let input = try g.constant(x, shape: [2, 6, 6, 2])
            let h = try deconv(try conv(input, in: g), in: g)
            #expect(h.shape == [2, 6, 6, 2])
            let flat = try g.reshape(h, [2, 72])
            let rate = try g.gaussianKL(mean: try mean(flat, in: g), scale: try g.add(try scale(flat, in: g), try g.scalar(0.1)))
            let distortion = try g.bernoulliNLL(logits: try logits(flat, in: g), targets: try g.constant(targets, shape: [2, 5]))
            return try g.mean(try g.add(distortion, try g.scale(rate, by: 0.7)))
        }
    }

    /// `gated(v, g)` keeps σ(g) instead of g for its backward rule, and gives the same values
    /// and gradients as `mul(v, sigmoid(g))` to the last bit: the same ops in the same order.
    @Test(arguments: AvailableBackends.all)
    func gatedUnitEqualsProductWithSigmoid(_ target: BackendUnderTest) throws {
        let b = target.backend
        var data = TestData(seed: 9)
        let (v, g, weights) = (data.values(3 * 37), data.values(3 * 37, in: -6...6), data.values(3 * 37))
        func run(_ unit: (Graph, Tensor, Tensor) throws -> Tensor) throws -> (y: [Float], dv: [Float], dg: [Float]) {
            let graph = Graph(backend: b)
            let value = Tensor(shape: [3, 37], buffer: try b.makeBuffer(v), requiresGradient: true)
            let gate = Tensor(shape: [3, 37], buffer: try b.makeBuffer(g), requiresGradient: true)
            let y = try unit(graph, value, gate)
            try graph.backward(from: try graph.mean(try graph.mul(y, try graph.constant(weights, shape: [3, 37]))))
            return (try graph.values(y), try b.download(try #require(graph.gradient(of: value))),
                try b.download(try #require(graph.gradient(of: gate))))
        }
        let fused = try run { graph, value, gate in try graph.gated(value, gate) }
        let composed = try run { graph, value, gate in try graph.mul(value, try graph.sigmoid(gate)) }
        #expect(fused.y == composed.y)
        #expect(fused.dv == composed.dv)
        #expect(fused.dg == composed.dg, "on \(b.displayName)")
        #expect(fused.dg.contains { $0 != 0 })
    }

    /// ReLU layers take the fused bias + ReLU op (`addBiasReLU`), whose backward pass works from
    /// the output alone.
    @Test(arguments: AvailableBackends.all)
    func reluLayersThroughFusedBias(_ target: BackendUnderTest) throws {
        let b = target.backend
        let conv = try Conv2D("enc", inChannels: 2, outChannels: 4, kernel: 3, stride: 1, activation: .relu, backend: b, seed: 3)
        let dense = try Dense("hidden", inputs: 64, outputs: 6, activation: .relu, backend: b, seed: 3)
        try b.upload([0.3, -0.2, 0.1, 0.05], to: conv.parameters[1].tensor.buffer)
        var data = TestData(seed: 6)
        let x = data.values(2 * 4 * 4 * 2), weights = data.values(12)
        try Self.check(b, conv.parameters + dense.parameters, samples: 8) { g in
            let h = try conv(try g.constant(x, shape: [2, 4, 4, 2]), in: g)
            let y = try dense(try g.reshape(h, [2, 64]), in: g)
            return try g.sum(try g.mul(y, try g.constant(weights, shape: [2, 6])), axes: [0, 1])
        }
    }

    @Test(arguments: AvailableBackends.all)
    func broadcastingArithmetic(_ target: BackendUnderTest) throws {
        let b = target.backend
        func parameter(_ name: String, _ shape: [Int], _ values: [Float]) throws -> Parameter {
            Parameter(name: name, tensor: Tensor(shape: shape, buffer: try b.makeBuffer(values), requiresGradient: true))
        }
        var data = TestData(seed: 9)
        let a = try parameter("a", [2, 3, 4], data.values(24))
        let c = try parameter("c", [3, 1], data.values(3))
        let d = try parameter("d", [4], data.values(4, in: 0.5...2))
        let weights = data.values(24)
        try Self.check(b, [a, c, d]) { g in
            let product = try g.mul(a.tensor, c.tensor)
            let quotient = try g.div(a.tensor, d.tensor)
            let mixed = try g.sub(try g.binary(.max, product, quotient), c.tensor)
            let weighted = try g.mul(mixed, try g.constant(weights, shape: [2, 3, 4]))
            let perRow = try g.sum(weighted, axes: [1, 2])
            return try g.mean(try g.add(perRow, try g.mean(try g.exp(d.tensor), axes: [0])))
        }
    }

    /// The fused KL between two diagonal Gaussians: gradients into all four tensors.
    @Test(arguments: AvailableBackends.all)
    func gaussianKLBetweenTwoGaussians(_ target: BackendUnderTest) throws {
        let b = target.backend
        func parameter(_ name: String, _ values: [Float]) throws -> Parameter {
            Parameter(name: name, tensor: Tensor(shape: [3, 4], buffer: try b.makeBuffer(values), requiresGradient: true))
        }
        var data = TestData(seed: 11)
        let meanQ = try parameter("meanQ", data.values(12, in: -2...2))
        let scaleQ = try parameter("scaleQ", data.values(12, in: 0.4...2))
        let meanP = try parameter("meanP", data.values(12, in: -2...2))
        let scaleP = try parameter("scaleP", data.values(12, in: 0.6...2))
        let weights = data.values(3, in: 0.5...1.5)
        try Self.check(b, [meanQ, scaleQ, meanP, scaleP], samples: 12) { g in
            let kl = try g.gaussianKL(meanQ: meanQ.tensor, scaleQ: scaleQ.tensor, meanP: meanP.tensor, scaleP: scaleP.tensor)
            #expect(kl.shape == [3])
            return try g.sum(try g.mul(kl, try g.constant(weights, shape: [3])), axes: [0])
        }
    }

    /// A fixed prior gets no gradient; the posterior's match the same KL built from
    /// elementwise ops.
    @Test(arguments: AvailableBackends.all)
    func gaussianKLToAFixedPriorMatchesComposition(_ target: BackendUnderTest) throws {
        let b = target.backend
        var data = TestData(seed: 12)
        let mq = data.values(8, in: -2...2), sq = data.values(8, in: 0.4...2)
        let mp = data.values(8, in: -2...2), sp = data.values(8, in: 0.6...2)
        func run(fused: Bool) throws -> (kl: [Float], meanQ: [Float], scaleQ: [Float], priorHasGradient: Bool) {
            let g = Graph(backend: b)
            let meanQ = Tensor(shape: [2, 4], buffer: try b.makeBuffer(mq), requiresGradient: true)
            let scaleQ = Tensor(shape: [2, 4], buffer: try b.makeBuffer(sq), requiresGradient: true)
            let meanP = try g.constant(mp, shape: [2, 4]), scaleP = try g.constant(sp, shape: [2, 4])
            let kl: Tensor
            if fused {
                kl = try g.gaussianKL(meanQ: meanQ, scaleQ: scaleQ, meanP: meanP, scaleP: scaleP)
            } else {
                let d = try g.sub(meanQ, meanP)
                let numerator = try g.add(try g.mul(scaleQ, scaleQ), try g.mul(d, d))
                let quotient = try g.div(numerator, try g.scale(try g.mul(scaleP, scaleP), by: 2))
                let terms = try g.sub(try g.add(try g.sub(try g.log(scaleP), try g.log(scaleQ)), quotient), try g.scalar(0.5))
                kl = try g.sum(terms, axes: [1])
            }
            try g.backward(from: try g.sum(kl, axes: [0]))
            let priorHasGradient = g.gradient(of: meanP) != nil || g.gradient(of: scaleP) != nil
            return (try g.values(kl), try b.download(try #require(g.gradient(of: meanQ))),
                try b.download(try #require(g.gradient(of: scaleQ))), priorHasGradient)
        }
        let fused = try run(fused: true), composed = try run(fused: false)
        #expect(!fused.priorHasGradient)
        for (a, c) in zip(fused.kl + fused.meanQ + fused.scaleQ, composed.kl + composed.meanQ + composed.scaleQ) {
            #expect(abs(a - c) <= 1e-4 * max(1, abs(c)), "fused \(a), composed \(c)")
        }
    }

    /// The AR(1)-prior KL: gradients into mean and scale `[B, n, d]`, none into α.
    @Test(arguments: AvailableBackends.all)
    func ar1PriorKL(_ target: BackendUnderTest) throws {
        let b = target.backend
        let shape = [3, 4, 2]
        func parameter(_ name: String, _ values: [Float]) throws -> Parameter {
            Parameter(name: name, tensor: Tensor(shape: shape, buffer: try b.makeBuffer(values), requiresGradient: true))
        }
        var data = TestData(seed: 13)
        let mean = try parameter("mean", data.values(24, in: -2...2))
        let scale = try parameter("scale", data.values(24, in: 0.4...2))
        let weights = data.values(3, in: 0.5...1.5)
        func loss(_ g: Graph) throws -> (loss: Tensor, alpha: Tensor) {
            let alpha = try g.constant([0.8, -0.3], shape: [2])
            let kl = try g.ar1KL(mean: mean.tensor, scale: scale.tensor, alpha: alpha)
            #expect(kl.shape == [3])
            return (try g.sum(try g.mul(kl, try g.constant(weights, shape: [3])), axes: [0]), alpha)
        }
        try Self.check(b, [mean, scale], samples: 24) { g in try loss(g).loss }
        let g = Graph(backend: b)
        let (total, alpha) = try loss(g)
        try g.backward(from: total)
        #expect(g.gradient(of: alpha) == nil)
        #expect(throws: ComputeError.self) {  // α of the wrong length
            try g.ar1KL(mean: mean.tensor, scale: scale.tensor, alpha: try g.constant([0.5, 0.5, 0.5], shape: [3]))
        }
        #expect(throws: ComputeError.self) {  // not [batch, steps, dimensions]
            try g.ar1KL(mean: Tensor(shape: [3, 8], buffer: mean.tensor.buffer),
                scale: Tensor(shape: [3, 8], buffer: scale.tensor.buffer), alpha: alpha)
        }
    }

    @Test func backwardNeedsAScalar() throws {
        let g = Graph(backend: AvailableBackends.cpu.backend)
        let p = Tensor(shape: [3], buffer: try g.backend.makeBuffer([1, 2, 3]), requiresGradient: true)
        #expect(throws: ComputeError.self) { try g.backward(from: try g.relu(p)) }
    }
}
