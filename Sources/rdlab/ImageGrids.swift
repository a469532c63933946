import Foundation
import RDCompute
import RDLab

/// The image grids of a run (the layout of Alemi Fig. 4): for reconstructions, columns of
/// test examples with rows input, one sample x ~ d(x|z) with z ~ e(z|x), and the mean of five
/// such samples; for samples, z from the channel's marginal (N(0, I) for the Gaussian channel,
/// Echo noise of test examples for Echo) with one sample and the mean of five.
enum ImageGrids {
    static let cell = 28
    static let gap = 2

    /// Bernoulli draws from logits with Philox (seed, stream), element `index`.
    static func bernoulli(_ logits: [Float], seed: UInt64, stream: UInt64) -> [Float] {
        let key = Philox.key(seed: seed)
        return logits.indices.map { i in
            let words = Philox.block(counter: Philox.counter(block: UInt64(i / 4), stream: stream), key: key)
            let p = 1 / (1 + Foundation.exp(-logits[i]))
            return Philox.uniform(words[i % 4]) < p ? 1 : 0
        }
    }

    /// Rows of images (each `[count × 784]`) side by side, one column per image.
    static func grid(_ rows: [[Float]], columns: Int) -> PNGImage {
        var image = PNGImage(width: columns * (cell + gap) + gap, height: rows.count * (cell + gap) + gap)
        for (r, row) in rows.enumerated() {
            for c in 0..<columns {
                image.paste(row[(c * 784)..<((c + 1) * 784)], size: cell, x: gap + c * (cell + gap), y: gap + r * (cell + gap))
            }
        }
        return image
    }

    /// Decodes `z` five times' worth: one sample row and the mean-of-five row.
    static func sampleRows(_ model: ConvAutoencoder, latents: [Tensor], seed: UInt64, stream: UInt64) throws -> [[Float]] {
        var draws: [[Float]] = []
        for (k, z) in latents.enumerated() {
            let graph = Graph(backend: model.backend)
            let logits = try graph.values(try model.decode(z, in: graph))
            draws.append(bernoulli(logits, seed: seed, stream: stream &+ UInt64(k)))
        }
        let mean = draws[0].indices.map { i in draws.reduce(0) { $0 + $1[i] } / Float(draws.count) }
        return [draws[0], mean]
    }

    /// The first `count` of a batch of test images with reconstructions. The whole batch goes
    /// through the channel (an Echo channel builds each example's noise from the others).
    static func reconstructions(_ model: ConvAutoencoder, batch images: [Float], count: Int, seed: UInt64) throws -> PNGImage {
        let batch = images.count / 784
        let d = model.configuration.latentDimension
        let latents = try (0..<5).map { k -> Tensor in
            let graph = Graph(backend: model.backend)
            let coded = try model.encode(try graph.constant(images, shape: [batch, 28, 28, 1]), in: graph, seed: seed,
                noiseStream: 0x1A_0000 + UInt64(k))
            return try graph.constant(Array(try graph.values(coded.latent).prefix(count * d)), shape: [count, d])
        }
        return grid([Array(images.prefix(count * 784))] + (try sampleRows(model, latents: latents, seed: seed, stream: 0x1B_0000)),
            columns: count)
    }

    /// Decodes `count` draws from the channel's marginal (`pool`: test images for channels
    /// whose marginal is built from data).
    static func samples(_ model: ConvAutoencoder, pool images: [Float], count: Int, seed: UInt64) throws -> PNGImage {
        let graph = Graph(backend: model.backend)
        let pool = try model.features(try graph.constant(images, shape: [images.count / 784, 28, 28, 1]), in: graph)
        let z = try model.marginalSamples(count: count, pool: pool, in: graph, seed: seed, stream: 0x1C_0000)
        return grid(try sampleRows(model, latents: Array(repeating: z, count: 5), seed: seed, stream: 0x1D_0000), columns: count)
    }
}
