import Foundation
import RDCompute

/// HIT's two-layer VAE on 28×28×1 Bernoulli images (seed-spec §8, `timxzz/HIT`), in PyTorch
/// semantics (``PyTorchConv2D``…): p(x, z₁, z₂) = N(z₂; 0, I) p(z₁|z₂) p(x|z₁), inferred by
/// q(z₂|x) q(z₁|z₂, x) — generalised top-down (GHVAE, §8.2) or a ladder whose bottom-up
/// estimate is merged with the prior by precision (LVAE, §8.3). Per example, in nats:
///
///     R₂ = KL(q(z₂|x) ‖ N(0, I)),   R₁ = KL(q(z₁|z₂, x) ‖ p(z₁|z₂)) at one sampled z₂,
///     D = −log p(x|z₁) at z₁ ~ q(z₁|z₂, x),
///
/// so that `D + β₁R₁ + β₂R₂` is HIT's objective (layers `z1` and `z2` of the
/// ``ObjectiveSpec``). Every scale is a standard deviation: softplus of a linear output as in
/// HIT (no floor), except the LVAE's q(z₁|·), the square root of a precision-merged variance;
/// z₁ is a `4 × 4 × c` map.
public final class HierarchicalVAE: RateDistortionModel {
    public let spec: ModelSpec
    public let backend: any Backend
    public let settings: HierarchicalSpec
    let bottomUp: BottomUpPath
    let inference: any BottomLayerInference
    let prior: ConditionalPrior
    let decoder: HierarchicalDecoder

    public init(_ settings: HierarchicalSpec, backend: any Backend, seed: UInt64) throws {
        if let problem = settings.problem() {
            throw ComputeError.invalidArgument(op: "HierarchicalVAE", reason: "\(problem.setting.flag) \(problem.reason)")
        }
        spec = .hierarchical(settings)
        self.backend = backend
        self.settings = settings
        let c = settings.channels
        bottomUp = try BottomUpPath(channels: c, top: settings.topDimension, backend: backend, seed: seed)
        inference = switch settings.inference {
        case .ghvae: try TopDownInference(channels: c, top: settings.topDimension, backend: backend, seed: seed)
        case .lvae: try LadderInference(channels: c, backend: backend, seed: seed)
        }
        prior = try ConditionalPrior(channels: c, top: settings.topDimension, backend: backend, seed: seed)
        decoder = try HierarchicalDecoder(channels: c, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] {
        bottomUp.parameters + inference.parameters + prior.parameters + decoder.parameters
    }

    public var latentLayers: [String] { spec.latentLayers }

    public var testNoiseDescription: String {
        "the test batch's own reparameterised z₂ and z₁, fixed Philox streams per test batch"
    }

    /// The posteriors of a batch `[B, 28, 28, 1]`: q(z₂|x), a z₂ (sampled from `noise`, or the
    /// mean when nil), p(z₁|z₂) and q(z₁|z₂, x) at that z₂.
    public func posteriors(_ images: Tensor, in graph: Graph, noise: (seed: UInt64, stream: UInt64)?) throws -> Posteriors {
        guard images.shape.count == 4, Array(images.shape.dropFirst()) == [28, 28, 1] else {
            throw ComputeError.invalidArgument(op: "HierarchicalVAE",
                reason: "images \(images.shape) are not [B, 28, 28, 1]: HIT's MNIST model reads 28×28 grey images")
        }
        let features = try bottomUp(images, in: graph)
        let top = features.top
        var z2 = top.mean, epsilon2: Tensor?
        if let noise {
            let e = try graph.standardNormal(top.mean.shape, seed: noise.seed, stream: noise.stream)
            z2 = try graph.add(top.mean, try graph.mul(top.scale, e))
            epsilon2 = e
        }
        let conditional = try prior(z2, in: graph)
        let bottom = try inference.posterior(images: images, features: features, z2: z2, prior: conditional, in: graph)
        return Posteriors(top: top, z2: z2, epsilon2: epsilon2, prior: conditional, bottom: bottom)
    }

    public func callAsFunction(_ images: Tensor, in graph: Graph, seed: UInt64, noiseStream: UInt64) throws -> ModelOutput {
        let batch = images.shape.first ?? 0
        let q = try posteriors(images, in: graph, noise: (seed, noiseStream))
        guard let epsilon2 = q.epsilon2 else { throw ComputeError.invalidArgument(op: "HierarchicalVAE", reason: "z₂ was not sampled") }
        let (z1, epsilon1) = try sampleBottom(q, in: graph, seed: seed, stream: noiseStream)
        let pixels = images.count / max(batch, 1)
        let distortion = try graph.bernoulliNLL(logits: try graph.reshape(try decoder(z1, in: graph), [batch, pixels]),
            targets: try graph.reshape(images, [batch, pixels]))
        let qTop = try q.top.flattened(in: graph), qBottom = try q.bottom.flattened(in: graph), pBottom = try q.prior.flattened(in: graph)
        let rate2 = try graph.gaussianKL(mean: qTop.mean, scale: qTop.scale)
        let rate1 = try graph.gaussianKL(meanQ: qBottom.mean, scaleQ: qBottom.scale, meanP: pBottom.mean, scaleP: pBottom.scale)
        let flatZ1 = try graph.reshape(z1, [batch, z1.count / max(batch, 1)])
        let weights = ImportanceWeights.available {
            // log w = log p(x|z₁) + log p(z₁|z₂) + log N(z₂) − log q(z₁|z₂, x) − log q(z₂|x)
            let logPrior1 = try pBottom.logDensity(flatZ1, in: graph)
            let logPrior2 = try graph.standardNormalLogDensity(q.z2)
            let logQ1 = try GaussianChannel.logDensity(scale: qBottom.scale,
                epsilon: try graph.reshape(epsilon1, [batch, epsilon1.count / max(batch, 1)]), in: graph)
            let logQ2 = try GaussianChannel.logDensity(scale: qTop.scale, epsilon: epsilon2, in: graph)
            let joint = try graph.sub(try graph.add(logPrior1, logPrior2), distortion)
            return try graph.sub(joint, try graph.add(logQ1, logQ2))
        }
        return ModelOutput(distortion: distortion,
            rates: [
                LayerRate(name: HierarchicalSpec.bottomLayer, rate: rate1) { try qBottom.klPerDimension(to: pBottom, in: graph) },
                LayerRate(name: HierarchicalSpec.topLayer, rate: rate2) {
                    let shape = qTop.mean.shape
                    let standard = DiagonalGaussian(mean: try graph.filled(0, shape: shape), scale: try graph.filled(1, shape: shape))
                    return try qTop.klPerDimension(to: standard, in: graph)
                },
            ],
            latent: flatZ1, importanceWeights: weights)
    }

    /// z₁ = μ₁ + σ₁ε₁ from q(z₁|z₂, x), and ε₁.
    func sampleBottom(_ q: Posteriors, in graph: Graph, seed: UInt64, stream: UInt64) throws -> (z1: Tensor, epsilon: Tensor) {
        let epsilon = try graph.standardNormal(q.bottom.mean.shape, seed: seed, stream: stream, offset: Self.offset(after: q.z2))
        return (try graph.add(q.bottom.mean, try graph.mul(q.bottom.scale, epsilon)), epsilon)
    }

    /// Where z₁'s noise starts in the Philox stream of a batch: right after z₂'s draws (even,
    /// as ``Backend/randomNormal(_:seed:stream:offset:)`` needs).
    static func offset(after z2: Tensor) -> UInt64 { UInt64((z2.count + 1) / 2 * 2) }

    /// Bernoulli means `[B, 28, 28, 1]` along the mean path z₂ = μ₂, z₁ = μ₁(μ₂, x) (HIT's
    /// reconstructions for PSNR).
    public func meanReconstruction(_ images: Tensor, in graph: Graph) throws -> Tensor {
        let q = try posteriors(images, in: graph, noise: nil)
        return try graph.sigmoid(try decoder(q.bottom.mean, in: graph))
    }

    /// `[B, 28, 28, 1]` images' Bernoulli means decoded from z₂ ~ N(0, I), z₁ ~ p(z₁|z₂).
    public func samples(count: Int, in graph: Graph, seed: UInt64, stream: UInt64) throws -> Tensor {
        let z2 = try graph.standardNormal([count, settings.topDimension], seed: seed, stream: stream)
        let p = try prior(z2, in: graph)
        let e = try graph.standardNormal(p.mean.shape, seed: seed, stream: stream, offset: Self.offset(after: z2))
        return try graph.sigmoid(try decoder(try graph.add(p.mean, try graph.mul(p.scale, e)), in: graph))
    }
}

/// What ``HierarchicalVAE/posteriors(_:in:noise:)`` gives: q(z₂|x) `[B, z₂]`, the z₂ used and
/// its standard-normal draw (nil on the mean path), p(z₁|z₂) and q(z₁|z₂, x) `[B, 4, 4, c]`.
public struct Posteriors {
    public let top: DiagonalGaussian
    public let z2: Tensor
    let epsilon2: Tensor?
    public let prior: DiagonalGaussian
    public let bottom: DiagonalGaussian
}

/// The bottom-up path both variants share: three convolutions 28 → 14 → 7 → 4, and q(z₂|x)
/// from the 256 features of the last one.
final class BottomUpPath: ParameterContainer {
    let conv1: PyTorchConv2D, conv2: PyTorchConv2D, conv3: PyTorchConv2D
    let mean: PyTorchLinear, scale: PyTorchLinear

    /// The intermediate `d₁` `[B, 7, 7, c]` (the ladder's q(z₁) reads it) and q(z₂|x).
    struct Features {
        let d1: Tensor
        let top: DiagonalGaussian
    }

    init(channels c: Int, top: Int, backend: any Backend, seed: UInt64) throws {
        conv1 = try PyTorchConv2D("qz.conv1", inChannels: 1, outChannels: c, kernel: 4, stride: 2, padding: 1, activation: .relu,
            backend: backend, seed: seed)
        conv2 = try PyTorchConv2D("qz.conv2", inChannels: c, outChannels: c, kernel: 4, stride: 2, padding: 1, activation: .relu,
            backend: backend, seed: seed)
        conv3 = try PyTorchConv2D("qz.conv3", inChannels: c, outChannels: c, kernel: 4, activation: .relu, backend: backend,
            seed: seed)
        mean = try PyTorchLinear("qz.mean", inputs: 16 * c, outputs: top, backend: backend, seed: seed)
        scale = try PyTorchLinear("qz.scale", inputs: 16 * c, outputs: top, activation: .softplus, backend: backend, seed: seed)
    }

    var parameters: [Parameter] { [conv1, conv2, conv3].flatMap(\.parameters) + mean.parameters + scale.parameters }

    func callAsFunction(_ x: Tensor, in graph: Graph) throws -> Features {
        let d1 = try conv2(try conv1(x, in: graph), in: graph)
        let h = try conv3(d1, in: graph)
        let flat = try graph.reshape(h, [x.shape[0], h.count / max(x.shape[0], 1)])
        return Features(d1: d1, top: DiagonalGaussian(mean: try mean(flat, in: graph), scale: try scale(flat, in: graph)))
    }
}

/// How a variant infers q(z₁|z₂, x).
protocol BottomLayerInference: ParameterContainer {
    func posterior(images: Tensor, features: BottomUpPath.Features, z2: Tensor, prior: DiagonalGaussian, in graph: Graph) throws
        -> DiagonalGaussian
}

/// GHVAE's q(z₁|z₂, x) (§8.2): x through its own two convolutions to 7×7×c, z₂ through a
/// linear layer and a transposed convolution to 7×7×c, both into one convolution to 4×4×c,
/// then μ and softplus σ by 3×3 convolutions.
final class TopDownInference: BottomLayerInference {
    let xConv1: PyTorchConv2D, xConv2: PyTorchConv2D
    let zLinear: PyTorchLinear, zDeconv: PyTorchConvTranspose2D
    let joint: PyTorchConv2D
    let mean: PyTorchConv2D, scale: PyTorchConv2D
    let channels: Int

    init(channels c: Int, top: Int, backend: any Backend, seed: UInt64) throws {
        channels = c
        xConv1 = try PyTorchConv2D("qy.x.conv1", inChannels: 1, outChannels: c, kernel: 4, stride: 2, padding: 1,
            activation: .relu, backend: backend, seed: seed)
        xConv2 = try PyTorchConv2D("qy.x.conv2", inChannels: c, outChannels: c, kernel: 4, stride: 2, padding: 1,
            activation: .relu, backend: backend, seed: seed)
        zLinear = try PyTorchLinear("qy.z.linear", inputs: top, outputs: 16 * c, activation: .relu, backend: backend, seed: seed)
        zDeconv = try PyTorchConvTranspose2D("qy.z.deconv", inChannels: c, outChannels: c, kernel: 4, activation: .relu,
            backend: backend, seed: seed)
        joint = try PyTorchConv2D("qy.zx.conv", inChannels: [c, c], outChannels: c, kernel: 4, activation: .relu,
            backend: backend, seed: seed)
        mean = try PyTorchConv2D("qy.mean", inChannels: c, outChannels: c, kernel: 3, padding: 1, backend: backend, seed: seed)
        scale = try PyTorchConv2D("qy.scale", inChannels: c, outChannels: c, kernel: 3, padding: 1, activation: .softplus,
            backend: backend, seed: seed)
    }

    var parameters: [Parameter] {
        xConv1.parameters + xConv2.parameters + zLinear.parameters + zDeconv.parameters + joint.parameters + mean.parameters
            + scale.parameters
    }

    func posterior(images: Tensor, features: BottomUpPath.Features, z2: Tensor, prior: DiagonalGaussian, in graph: Graph) throws
        -> DiagonalGaussian {
        let fromX = try xConv2(try xConv1(images, in: graph), in: graph)
        let fromZ = try zDeconv(try graph.reshape(try zLinear(z2, in: graph), [z2.shape[0], 4, 4, channels]), in: graph)
        let h = try joint(fromZ, fromX, in: graph)
        return DiagonalGaussian(mean: try mean(h, in: graph), scale: try scale(h, in: graph))
    }
}

/// The LVAE's q(z₁|·) (§8.3): a convolution of the shared d₁ to 4×4×c, an estimate μ̂ and a
/// variance σ̂² = softplus(·), merged with the prior by precision
/// (``DiagonalGaussian/merged(estimate:variance:in:)``).
final class LadderInference: BottomLayerInference {
    let conv: PyTorchConv2D
    let mean: PyTorchConv2D, variance: PyTorchConv2D

    init(channels c: Int, backend: any Backend, seed: UInt64) throws {
        conv = try PyTorchConv2D("qy.d.conv", inChannels: c, outChannels: c, kernel: 4, activation: .relu, backend: backend,
            seed: seed)
        mean = try PyTorchConv2D("qy.mean", inChannels: c, outChannels: c, kernel: 3, padding: 1, backend: backend, seed: seed)
        variance = try PyTorchConv2D("qy.variance", inChannels: c, outChannels: c, kernel: 3, padding: 1, activation: .softplus,
            backend: backend, seed: seed)
    }

    var parameters: [Parameter] { conv.parameters + mean.parameters + variance.parameters }

    func posterior(images: Tensor, features: BottomUpPath.Features, z2: Tensor, prior: DiagonalGaussian, in graph: Graph) throws
        -> DiagonalGaussian {
        let h = try conv(features.d1, in: graph)
        return try prior.merged(estimate: try mean(h, in: graph), variance: try variance(h, in: graph), in: graph)
    }
}

/// p(z₁|z₂): a linear layer of 8c units (HIT: half of z₁'s 16c; 128 at c = 16), then μ and
/// softplus σ of the `4 × 4 × c` map.
final class ConditionalPrior: ParameterContainer {
    let hidden: PyTorchLinear
    let mean: PyTorchLinear, scale: PyTorchLinear
    let channels: Int

    init(channels c: Int, top: Int, backend: any Backend, seed: UInt64) throws {
        channels = c
        hidden = try PyTorchLinear("py.hidden", inputs: top, outputs: 8 * c, activation: .relu, backend: backend, seed: seed)
        mean = try PyTorchLinear("py.mean", inputs: 8 * c, outputs: 16 * c, backend: backend, seed: seed)
        scale = try PyTorchLinear("py.scale", inputs: 8 * c, outputs: 16 * c, activation: .softplus, backend: backend, seed: seed)
    }

    var parameters: [Parameter] { hidden.parameters + mean.parameters + scale.parameters }

    /// p(z₁|z₂) `[B, 4, 4, c]` for z₂ `[B, top]`.
    func callAsFunction(_ z2: Tensor, in graph: Graph) throws -> DiagonalGaussian {
        let h = try hidden(z2, in: graph)
        let shape = [z2.shape[0], 4, 4, channels]
        return DiagonalGaussian(mean: try graph.reshape(try mean(h, in: graph), shape),
            scale: try graph.reshape(try scale(h, in: graph), shape))
    }
}

/// p(x|z₁): transposed convolutions 4 → 7 → 14 → 28, one Bernoulli logit per pixel (HIT
/// applies the sigmoid in the model; rdlab keeps logits for a stable NLL).
final class HierarchicalDecoder: ParameterContainer {
    let deconv1: PyTorchConvTranspose2D, deconv2: PyTorchConvTranspose2D, deconv3: PyTorchConvTranspose2D

    init(channels c: Int, backend: any Backend, seed: UInt64) throws {
        deconv1 = try PyTorchConvTranspose2D("px.deconv1", inChannels: c, outChannels: c, kernel: 4, activation: .relu,
            backend: backend, seed: seed)
        deconv2 = try PyTorchConvTranspose2D("px.deconv2", inChannels: c, outChannels: c, kernel: 4, stride: 2, padding: 1,
            activation: .relu, backend: backend, seed: seed)
        deconv3 = try PyTorchConvTranspose2D("px.deconv3", inChannels: c, outChannels: 1, kernel: 4, stride: 2, padding: 1,
            backend: backend, seed: seed)
    }

    var parameters: [Parameter] { deconv1.parameters + deconv2.parameters + deconv3.parameters }

    /// Logits `[B, 28, 28, 1]` of z₁ `[B, 4, 4, c]`.
    func callAsFunction(_ z1: Tensor, in graph: Graph) throws -> Tensor {
        try deconv3(try deconv2(try deconv1(z1, in: graph), in: graph), in: graph)
    }
}
