import Foundation
import RDCompute
@testable import RDLab
import RDTestSupport
import Testing

/// The PixelCNN decoder's autoregressive property on every backend, and the cropped passes
/// that sequential sampling relies on.
@Suite("PixelCNN decoder")
struct PixelCNNTests {
    static func decoder(_ backend: any Backend) throws -> PixelCNNDecoder {
        try PixelCNNDecoder(latentDimension: 3, features: 4, resnets: 1, symmetricInputs: true, backend: backend, seed: 21)
    }

    /// For random weights, ∂logit(i, j)/∂x(i', j') is exactly zero unless (i', j') precedes
    /// (i, j) in raster order, for every output pixel of an 8×8 image; the pixel to the left
    /// and the one above do reach it (so the check can fail both ways).
    @Test(arguments: AvailableBackends.all)
    func logitsDependOnPrecedingPixelsOnly(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let decoder = try Self.decoder(backend)
        let side = 8
        var data = TestData(seed: 8)
        let image = data.values(side * side, in: 0...1), map = data.values(side * side)
        for pixel in 0..<(side * side) {
            let graph = Graph(backend: backend)
            let x = Tensor(shape: [1, side, side, 1], buffer: try backend.makeBuffer(image), requiresGradient: true)
            let logits = try decoder.network(map: try graph.constant(map, shape: [1, side, side, 1]), images: x, in: graph)
            var oneHot = [Float](repeating: 0, count: side * side)
            oneHot[pixel] = 1
            try graph.backward(from: try graph.sum(try graph.mul(logits, try graph.constant(oneHot, shape: [1, side, side, 1])),
                axes: [0, 1, 2, 3]))
            let gradient = try backend.download(try #require(graph.gradient(of: x)))
            let leaks = (pixel..<(side * side)).filter { gradient[$0] != 0 }
            #expect(leaks.isEmpty, "\(target.backend.displayName): logit \(pixel) depends on pixels \(leaks)")
            if pixel % side > 0 { #expect(gradient[pixel - 1] != 0, "logit \(pixel) ignores its left neighbour") }
            if pixel >= side { #expect(gradient[pixel - side] != 0, "logit \(pixel) ignores the pixel above") }
        }
    }

    /// With its gated resnets recomputed in the backward pass, a step gives the same loss and
    /// the same gradient of every parameter and of the image, to the last bit (the same ops on
    /// the same values), and its graph keeps less alive at its peak.
    @Test(arguments: AvailableBackends.all)
    func recomputedActivationsGiveTheSameGradients(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let decoder = try Self.decoder(backend)
        var data = TestData(seed: 12)
        let image = data.values(2 * 8 * 8, in: 0...1), map = data.values(2 * 8 * 8)
        func step(_ activations: ActivationMemory) throws -> (loss: [Float], gradients: [[Float]], peak: Int) {
            let graph = Graph(backend: backend, measuringMemory: true, activations: activations)
            let x = Tensor(shape: [2, 8, 8, 1], buffer: try backend.makeBuffer(image), requiresGradient: true)
            let logits = try decoder.network(map: try graph.constant(map, shape: [2, 8, 8, 1]), images: x, in: graph)
            let loss = try graph.mean(try graph.bernoulliNLL(logits: try graph.reshape(logits, [2, 64]),
                targets: try graph.constant(image.map { $0.rounded() }, shape: [2, 64])))
            try graph.backward(from: loss)
            // every parameter but the dense layer that makes the latent map, which network() is given
            let read = decoder.parameters.filter { !$0.name.hasPrefix("decoder.pixelcnn.latent_map") }
            let gradients = try (read.map(\.tensor) + [x]).map { tensor in
                try backend.download(try #require(graph.gradient(of: tensor)))
            }
            return (try graph.values(loss), gradients, graph.peakBytes)
        }
        let kept = try step(.kept), recomputed = try step(.recomputed)
        #expect(recomputed.loss == kept.loss)
        #expect(recomputed.gradients.count == kept.gradients.count)
        for (index, (a, b)) in zip(recomputed.gradients, kept.gradients).enumerated() {
            #expect(a == b, "gradient \(index) of \(kept.gradients.count) differs on \(backend.displayName)")
        }
        #expect(recomputed.peak < kept.peak * 3 / 4, "peak \(recomputed.peak) recomputed, \(kept.peak) kept")
    }

    /// The logits of the first h rows, computed from the image cropped to h rows, equal the
    /// full image's (what sampling relies on), and the full logits read the latent map.
    @Test func croppedPassesMatchTheFullImage() throws {
        let backend = AvailableBackends.cpu.backend
        let decoder = try Self.decoder(backend)
        var data = TestData(seed: 9)
        let image = data.values(2 * 784, in: 0...1).map { $0 > 0.5 ? Float(1) : 0 }, map = data.values(2 * 784)
        let graph = Graph(backend: backend)
        let full = try graph.values(try decoder.network(map: try graph.constant(map, shape: [2, 28, 28, 1]),
            images: try graph.constant(image, shape: [2, 28, 28, 1]), in: graph))
        for h in [4, 12, 28] {
            func rows(_ v: [Float]) -> [Float] { (0..<2).flatMap { b in v[(b * 784)..<(b * 784 + h * 28)] } }
            let cropped = try graph.values(try decoder.network(map: try graph.constant(rows(map), shape: [2, h, 28, 1]),
                images: try graph.constant(rows(image), shape: [2, h, 28, 1]), in: graph))
            let expected = rows(full)
            let worst = zip(cropped, expected).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "h = \(h): largest difference \(worst)")
        }
    }
}
