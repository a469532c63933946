import RDCompute
import RDLab
import RDTestSupport
import Testing

@Suite("Layers")
struct LayerTests {
    /// The conv autoencoder of seed-spec §6 (Echo App. E, ReLU, D = 32, final k = 5):
    /// shapes of every layer and the published parameter counts (check C14).
    @Test func referenceAutoencoderShapesAndParameterCounts() throws {
        let b = AvailableBackends.cpu.backend
        let encoder: [Conv2D] = [
            try Conv2D("encoder.conv1", inChannels: 1, outChannels: 32, kernel: 5, backend: b, seed: 0),
            try Conv2D("encoder.conv2", inChannels: 32, outChannels: 32, kernel: 5, stride: 2, backend: b, seed: 0),
            try Conv2D("encoder.conv3", inChannels: 32, outChannels: 64, kernel: 5, backend: b, seed: 0),
            try Conv2D("encoder.conv4", inChannels: 64, outChannels: 64, kernel: 5, stride: 2, backend: b, seed: 0),
            try Conv2D("encoder.conv5", inChannels: 64, outChannels: 256, kernel: 7, padding: .valid, backend: b, seed: 0),
        ]
        let heads = [try Dense("encoder.f", inputs: 256, outputs: 32, backend: b, seed: 0),
            try Dense("encoder.s", inputs: 256, outputs: 32, backend: b, seed: 0)]
        let decoder: [any ParameterContainer] = [
            try ConvTranspose2D("decoder.deconv1", inChannels: 32, outChannels: 64, kernel: 7, padding: .valid, backend: b, seed: 0),
            try ConvTranspose2D("decoder.deconv2", inChannels: 64, outChannels: 64, kernel: 5, backend: b, seed: 0),
            try ConvTranspose2D("decoder.deconv3", inChannels: 64, outChannels: 64, kernel: 5, stride: 2, backend: b, seed: 0),
            try ConvTranspose2D("decoder.deconv4", inChannels: 64, outChannels: 32, kernel: 5, backend: b, seed: 0),
            try ConvTranspose2D("decoder.deconv5", inChannels: 32, outChannels: 32, kernel: 5, stride: 2, backend: b, seed: 0),
            try ConvTranspose2D("decoder.deconv6", inChannels: 32, outChannels: 32, kernel: 4, backend: b, seed: 0),
            try Conv2D("decoder.out", inChannels: 32, outChannels: 1, kernel: 5, activation: .linear, backend: b, seed: 0),
        ]
        func count(_ layers: [any ParameterContainer]) -> Int { layers.flatMap(\.parameters).reduce(0) { $0 + $1.tensor.count } }
        #expect(count(encoder + heads) == 999_712)
        #expect(count(decoder) == 399_425)

        let g = Graph(backend: b)
        var h = try g.filled(0.5, shape: [2, 28, 28, 1])
        var shapes: [[Int]] = []
        for layer in encoder {
            h = try layer(h, in: g)
            shapes.append(h.shape)
        }
        #expect(shapes == [[2, 28, 28, 32], [2, 14, 14, 32], [2, 14, 14, 64], [2, 7, 7, 64], [2, 1, 1, 256]])
        var z = try g.filled(0.1, shape: [2, 1, 1, 32])
        shapes = []
        for layer in decoder {
            if let t = layer as? ConvTranspose2D { z = try t(z, in: g) } else if let c = layer as? Conv2D { z = try c(z, in: g) }
            shapes.append(z.shape)
        }
        #expect(shapes == [[2, 7, 7, 64], [2, 7, 7, 64], [2, 14, 14, 64], [2, 14, 14, 32], [2, 28, 28, 32], [2, 28, 28, 32],
            [2, 28, 28, 1]])
    }

    /// Gated layers own a second kernel: Alemi's gated encoder at D = 64 has 1,999,424 parameters.
    @Test func gatedEncoderParameterCount() throws {
        let b = AvailableBackends.cpu.backend
        let specs = [(1, 32, 5, 1, Conv2DGeometry.Padding.same), (32, 32, 5, 2, .same), (32, 64, 5, 1, .same),
            (64, 64, 5, 2, .same), (64, 256, 7, 1, .valid)]
        var total = 0
        for (i, (cin, cout, k, s, p)) in specs.enumerated() {
            let layer = try Conv2D("encoder.conv\(i + 1)", inChannels: cin, outChannels: cout, kernel: k, stride: s,
                padding: p, activation: .gated, backend: b, seed: 0)
            total += layer.parameters.reduce(0) { $0 + $1.tensor.count }
        }
        for head in ["mu", "sigma"] {
            total += try Dense("encoder.\(head)", inputs: 256, outputs: 64, backend: b, seed: 0).parameters.reduce(0) { $0 + $1.tensor.count }
        }
        #expect(total == 1_999_424)
    }

    /// Glorot-uniform draws: in ±√(6/(fanIn+fanOut)), variance l²/3, and the same bits on every backend.
    @Test func glorotUniformIsPortable() throws {
        var reference: [Float]?
        for target in AvailableBackends.all {
            let layer = try Conv2D("encoder.conv3", inChannels: 32, outChannels: 64, kernel: 5, backend: target.backend, seed: 42)
            let weights = try target.backend.download(layer.parameters[0].tensor.buffer)
            let limit = Float((6.0 / Double(25 * 32 + 25 * 64)).squareRoot())
            #expect(weights.allSatisfy { abs($0) <= limit })
            let variance = weights.reduce(0.0) { $0 + Double($1 * $1) } / Double(weights.count)
            #expect(abs(variance / Double(limit * limit / 3) - 1) < 0.02)
            #expect(try target.backend.download(layer.parameters[1].tensor.buffer).allSatisfy { $0 == 0 })
            if let reference {
                #expect(weights.map(\.bitPattern) == reference.map(\.bitPattern), "\(target.backend.displayName) differs from cpu")
            } else {
                reference = weights
            }
        }
        let b = AvailableBackends.cpu.backend
        let other = try Conv2D("encoder.conv4", inChannels: 32, outChannels: 64, kernel: 5, backend: b, seed: 42)
        #expect(try b.download(other.parameters[0].tensor.buffer) != reference, "different names draw different streams")
    }
}
