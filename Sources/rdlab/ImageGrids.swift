import Foundation
import RDCompute
import RDLab

/// The image grids of a run (the layout of Alemi Fig. 4): for reconstructions, columns of
/// test examples with rows input, one sample x ~ d(x|z) with z ~ e(z|x), and the mean of five
/// such samples; for samples, z from the model's marginal (N(0, I), the learned MAF or
/// VampPrior, or Echo noise of test examples for Echo) with one sample and the mean of five.
/// A PixelCNN decoder samples sequentially, so its second row shows the probabilities of one
/// sample's pixels instead of a mean of five.
enum ImageGrids {
    /// Each image pixel is drawn as a `scale`×`scale` block, so a digit is legible at 100 %.
    static let scale = 3
    static let cell = 28 * scale
    /// Grey lines of this width separate the tiles and frame the grid.
    static let gap = 6

    /// Rows of images (each `[count × 784]`) side by side, one column per image.
    static func grid(_ rows: [[Float]], columns: Int) -> PNGImage {
        var image = PNGImage(width: columns * (cell + gap) + gap, height: rows.count * (cell + gap) + gap, fill: 160)
        for (r, row) in rows.enumerated() {
            for c in 0..<columns {
                image.paste(row[(c * 784)..<((c + 1) * 784)], size: 28, scale: scale, x: gap + c * (cell + gap),
                    y: gap + r * (cell + gap))
            }
        }
        return image
    }

    /// One sample row and a second row: the mean of one draw per latent batch in `latents`, or
    /// for an autoregressive decoder (sequential sampling, 784 passes) the probabilities each
    /// pixel was drawn with, from the first latent batch only.
    static func sampleRows(_ model: ConvAutoencoder, latents: [Tensor], seed: UInt64, stream: UInt64) throws -> [[Float]] {
        if model.decoder.isAutoregressive {
            let (draws, probabilities) = try model.decoder.sample(latents[0], backend: model.backend, seed: seed, stream: stream)
            return [draws, probabilities]
        }
        let draws = try latents.enumerated().map { k, z in
            try model.decoder.sample(z, backend: model.backend, seed: seed, stream: stream &+ UInt64(k)).draws
        }
        let mean = draws[0].indices.map { i in draws.reduce(0) { $0 + $1[i] } / Float(draws.count) }
        return [draws[0], mean]
    }

    /// The first `count` of a batch of test images with reconstructions. The whole batch goes
    /// through the channel (an Echo channel builds each example's noise from the others).
    static func reconstructions(_ model: ConvAutoencoder, batch images: [Float], count: Int, seed: UInt64) throws -> PNGImage {
        let batch = images.count / 784
        let d = model.channel.latentDimension
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

    /// The δ-VAE: test images above one decoded sample of d(x|z), z ~ q(z|x), and the
    /// probabilities its pixels were drawn with (the decoder samples pixel by pixel).
    static func reconstructions(_ model: DeltaVAE, images: [Float], seed: UInt64) throws -> PNGImage {
        let graph = Graph(backend: model.backend)
        let count = images.count / 784
        let q = try model.posterior(try graph.constant(images, shape: [count, 28, 28, 1]), in: graph)
        let z = try model.sample(q, in: graph, seed: seed, stream: 0x1A_0000).z
        let (draws, probabilities) = try model.decoder.sample(z, backend: model.backend, seed: seed, stream: 0x1B_0000)
        return grid([images, draws, probabilities], columns: count)
    }

    /// The δ-VAE: `count` latent sequences from the AR(1) prior, one decoded sample each and its
    /// pixels' probabilities.
    static func samples(_ model: DeltaVAE, count: Int, seed: UInt64) throws -> PNGImage {
        let graph = Graph(backend: model.backend)
        let z = try model.priorSamples(count: count, in: graph, seed: seed, stream: 0x1C_0000)
        let (draws, probabilities) = try model.decoder.sample(z, backend: model.backend, seed: seed, stream: 0x1D_0000)
        return grid([draws, probabilities], columns: count)
    }

    /// HIT's model: test images above their reconstructions along the mean path (the images
    /// PSNR scores), as Bernoulli means.
    static func reconstructions(_ model: HierarchicalVAE, images: [Float]) throws -> PNGImage {
        let graph = Graph(backend: model.backend)
        let count = images.count / 784
        let means = try graph.values(try model.meanReconstruction(try graph.constant(images, shape: [count, 28, 28, 1]), in: graph))
        return grid([images, means], columns: count)
    }

    /// HIT's model: Bernoulli means of `count` draws z₂ ~ N(0, I), z₁ ~ p(z₁|z₂).
    static func samples(_ model: HierarchicalVAE, count: Int, seed: UInt64) throws -> PNGImage {
        let graph = Graph(backend: model.backend)
        let first = try graph.values(try model.samples(count: count, in: graph, seed: seed, stream: 0x1C_0000))
        return grid([first], columns: count)
    }
}
