import Foundation
import RDCompute

/// Alemi's autoregressive "+" decoder (seed-spec §4.4): PixelCNN++ with gated units. z goes
/// through a gated dense layer to a 28×28 latent map; the map, the target image and an
/// all-ones channel enter two causal streams (u sees the rows above, ul also the pixels to
/// the left); six blocks at 28, 14, 7 | 7, 14, 28 of gated resnets with `features` channels,
/// `resnets` per block on the way up and PixelCNN++'s `resnets`, `resnets + 1`, `resnets + 1`
/// on the way down, skips from the up pass; a 1×1 convolution of ul gives one Bernoulli logit
/// per pixel. Logit (i, j) depends on image pixels before (i, j) in raster order only.
///
/// With ``Conditioning/rows(dimension:)`` (the δ-VAE) z is a sequence z_1…z_28 of
/// d-dimensional latents, `[B, 28·d]` row-major: row t of the latent map is a gated dense
/// layer of z_t alone, and the map enters the first layers a second time unmasked (a 1×1
/// convolution), so pixel row t sees its own z_t everywhere and no later one — logits of row t
/// depend on z_{≤t} only, because both streams only ever move information down the rows.
public final class PixelCNNDecoder: LatentDecoder {
    /// How z becomes the latent map.
    public enum Conditioning: Equatable, Sendable {
        /// One vector for the whole image: a gated dense layer to 784 values (Alemi).
        case image
        /// One `dimension`-vector per image row: row t of the map from z_t (the δ-VAE).
        case rows(dimension: Int)
    }

    public let latentDimension: Int
    public let conditioning: Conditioning
    public let features: Int
    public let resnets: Int
    let symmetricInputs: Bool
    let latentMap: Dense
    let firstU: LinearSum
    let firstUL: LinearSum
    let up: [[(u: GatedResnet, ul: GatedResnet)]]
    let downsample: [(u: LinearSum, ul: LinearSum)]
    let down: [[(u: GatedResnet, ul: GatedResnet)]]
    let upsample: [(u: LinearSum, ul: LinearSum)]
    let output: LinearSum

    /// Taps of the first layer's masked convolutions: u sees the two rows above (a 3×3 kernel
    /// padded 2 on top, its bottom row cut); ul the row above and the pixel to the left.
    static let firstUTaps = [(ky: 0, kx: 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    static let firstULTaps = [(ky: 0, kx: 0), (0, 1), (0, 2), (1, 0)]

    public init(latentDimension: Int, conditioning: Conditioning = .image, features f: Int = 64, resnets n: Int = 2,
        symmetricInputs: Bool, backend: any Backend, seed: UInt64) throws {
        guard f >= 1, n >= 1 else {
            throw ComputeError.invalidArgument(op: "PixelCNNDecoder", reason: "features and resnets must be at least 1 (got \(f), \(n))")
        }
        if case .rows(let d) = conditioning, d < 1 || latentDimension != 28 * d {
            throw ComputeError.invalidArgument(op: "PixelCNNDecoder",
                reason: "a latent of \(latentDimension) dimensions is not 28 rows of \(d)")
        }
        self.latentDimension = latentDimension
        self.conditioning = conditioning
        features = f
        resnets = n
        self.symmetricInputs = symmetricInputs
        let name = "decoder.pixelcnn"
        latentMap = switch conditioning {
        case .image:
            try Dense("\(name).latent_map", inputs: latentDimension, outputs: 784, activation: .gated, backend: backend, seed: seed)
        case .rows(let d):
            try Dense("\(name).latent_map", inputs: d, outputs: 28, activation: .gated, backend: backend, seed: seed)
        }
        func first(_ stream: String, taps: [(ky: Int, kx: Int)], kernel: (Int, Int), padTop: Int) throws -> LinearSum {
            let map: LinearSum.Map = { x, w, graph in
                let geometry = Conv2DGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], inChannels: 1,
                    outChannels: f, kernelHeight: kernel.0, kernelWidth: kernel.1, padTop: padTop, padLeft: 1, padRight: 1)
                return try graph.maskedConv2d(x, w, shape: try MaskedConv2DShape(geometry, taps: taps))
            }
            var terms = ["latent", "image", "ones"].map { part in
                (name: part, shape: [taps.count, 1, f], fans: (taps.count, taps.count * f), map: map)
            }
            if case .rows = conditioning {
                terms.append((name: "latent_row", shape: [1, f], fans: (1, f), map: Self.pointwise))
            }
            return try LinearSum("\(name).\(stream)0", terms: terms, channels: f, backend: backend, seed: seed)
        }
        firstU = try first("u", taps: Self.firstUTaps, kernel: (3, 3), padTop: 2)
        firstUL = try first("ul", taps: Self.firstULTaps, kernel: (2, 3), padTop: 1)

        func resnetPair(_ prefix: String, uSkips: Int, ulSkips: Int) throws -> (u: GatedResnet, ul: GatedResnet) {
            (try GatedResnet("\(prefix).u", features: f, kernel: (2, 3), skips: uSkips, conv: Self.shifted(right: false, stride: 1),
                backend: backend, seed: seed),
                try GatedResnet("\(prefix).ul", features: f, kernel: (2, 2), skips: ulSkips,
                    conv: Self.shifted(right: true, stride: 1), backend: backend, seed: seed))
        }
        func resampling(_ prefix: String, _ map: (Bool) -> LinearSum.Map) throws -> (u: LinearSum, ul: LinearSum) {
            (try LinearSum("\(prefix).u", terms: [(name: "conv", shape: [2, 3, f, f], fans: (6 * f, 6 * f), map: map(false))],
                channels: f, backend: backend, seed: seed),
                try LinearSum("\(prefix).ul", terms: [(name: "conv", shape: [2, 2, f, f], fans: (4 * f, 4 * f), map: map(true))],
                    channels: f, backend: backend, seed: seed))
        }
        up = try (0..<3).map { block in
            try (0..<n).map { r in try resnetPair("\(name).up\(block + 1).res\(r + 1)", uSkips: 0, ulSkips: 1) }
        }
        downsample = try (0..<2).map { k in try resampling("\(name).downsample\(k + 1)") { Self.shifted(right: $0, stride: 2) } }
        down = try (0..<3).map { block in
            try (0..<(block == 0 ? n : n + 1)).map { r in
                try resnetPair("\(name).down\(block + 1).res\(r + 1)", uSkips: 1, ulSkips: 2)
            }
        }
        upsample = try (0..<2).map { k in try resampling("\(name).upsample\(k + 1)") { Self.upsampling(right: $0) } }
        output = try LinearSum("\(name).logits", terms: [(name: "nin", shape: [f, 1], fans: (f, 1),
            map: { x, w, graph in try graph.matmul(x, w) })], channels: 1, backend: backend, seed: seed)
    }

    public var parameters: [Parameter] {
        let pairs = (up + down).flatMap { $0 }.flatMap { $0.u.parameters + $0.ul.parameters }
        let resampled = (downsample + upsample).flatMap { $0.u.parameters + $0.ul.parameters }
        return latentMap.parameters + firstU.parameters + firstUL.parameters + pairs + resampled + output.parameters
    }

    public var isAutoregressive: Bool { true }

    /// A 1×1 convolution `[B, H, W, 1]` → `[B, H, W, f]` (filter `[1, f]`).
    static var pointwise: LinearSum.Map {
        { x, w, graph in
            let (b, h, wd) = (x.shape[0], x.shape[1], x.shape[2])
            return try graph.reshape(try graph.matmul(try graph.reshape(x, [b * h * wd, 1]), w), [b, h, wd, w.shape[1]])
        }
    }

    /// The down-shifted ([2, 3]) or down-right-shifted ([2, 2]) convolution of a stream.
    static func shifted(right: Bool, stride: Int) -> LinearSum.Map {
        { x, w, graph in
            let (b, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let g = right
                ? Conv2DGeometry.downRightShifted(batch: b, height: h, width: wd, inChannels: c, outChannels: w.shape[3], stride: stride)
                : Conv2DGeometry.downShifted(batch: b, height: h, width: wd, inChannels: c, outChannels: w.shape[3], stride: stride)
            return try graph.conv2d(x, w, geometry: g)
        }
    }

    /// The stride-2 shifted deconvolution of a stream (filter `[kh, kw, out, in]`).
    static func upsampling(right: Bool) -> LinearSum.Map {
        { x, w, graph in
            try graph.convTranspose2d(x, w, geometry: .shiftedTransposed(batch: x.shape[0], inHeight: x.shape[1],
                inWidth: x.shape[2], inChannels: x.shape[3], outChannels: w.shape[2], kernelHeight: w.shape[0],
                kernelWidth: w.shape[1], stride: 2, rightShifted: right))
        }
    }

    /// The latent map `[B, 28, 28, 1]` of `z` `[B, D]`: one dense layer of z, or of each row's z_t.
    func latentImage(_ z: Tensor, in graph: Graph) throws -> Tensor {
        let batch = z.shape[0]
        switch conditioning {
        case .image:
            return try graph.reshape(try latentMap(z, in: graph), [batch, 28, 28, 1])
        case .rows(let d):
            return try graph.reshape(try latentMap(try graph.reshape(z, [batch * 28, d]), in: graph), [batch, 28, 28, 1])
        }
    }

    /// Logits `[B, h, 28, 1]` from a latent map and images cropped to their first h rows (h a
    /// multiple of 4): by causality these equal the first h rows of the full image's logits.
    func network(map: Tensor, images: Tensor, in graph: Graph) throws -> Tensor {
        guard images.shape == map.shape, images.shape[1] % 4 == 0, images.shape[2] % 4 == 0 else {
            throw ComputeError.invalidArgument(op: "PixelCNNDecoder",
                reason: "images \(images.shape) and latent map \(map.shape) must agree, with sides divisible by 4")
        }
        let x = symmetricInputs ? try graph.symmetric(images) : images
        let ones = try graph.filled(1, shape: images.shape)
        let inputs = conditioning == .image ? [map, x, ones] : [map, x, ones, map]
        var uList = [try firstU(inputs, in: graph)]
        var ulList = [try firstUL(inputs, in: graph)]
        for block in 0..<3 {
            for pair in up[block] {
                uList.append(try pair.u(uList.last!, skips: [], in: graph))
                ulList.append(try pair.ul(ulList.last!, skips: [uList.last!], in: graph))
            }
            if block < 2 {
                uList.append(try downsample[block].u([uList.last!], in: graph))
                ulList.append(try downsample[block].ul([ulList.last!], in: graph))
            }
        }
        var u = uList.removeLast(), ul = ulList.removeLast()
        for block in 0..<3 {
            for pair in down[block] {
                u = try pair.u(u, skips: [uList.removeLast()], in: graph)
                ul = try pair.ul(ul, skips: [u, ulList.removeLast()], in: graph)
            }
            if block < 2 {
                u = try upsample[block].u([u], in: graph)
                ul = try upsample[block].ul([ul], in: graph)
            }
        }
        return try output([ul], in: graph)
    }

    public func logits(_ z: Tensor, images: Tensor, in graph: Graph) throws -> Tensor {
        try network(map: try latentImage(z, in: graph), images: images, in: graph)
    }

    /// Sequential ancestral sampling: 784 passes in raster order, each on the image cropped
    /// to the rows it needs (rounded up to a multiple of 4), pixel (i, j) drawn from the
    /// Bernoulli of its logit with Philox (seed, stream) element `b·784 + i·28 + j`. Throws
    /// ``Interrupted`` between passes once SIGINT or SIGTERM has arrived.
    public func sample(_ z: Tensor, backend: any Backend, seed: UInt64, stream: UInt64) throws
        -> (draws: [Float], probabilities: [Float]) {
        let batch = z.shape[0]
        let mapGraph = Graph(backend: backend)
        let map = try mapGraph.values(try latentImage(z, in: mapGraph))
        var draws = [Float](repeating: 0, count: batch * 784), probabilities = draws
        func rows(_ values: [Float], _ h: Int) -> [Float] {
            (0..<batch).flatMap { b in values[(b * 784)..<(b * 784 + h * 28)] }
        }
        for i in 0..<28 {
            let h = min(28, (i / 4 + 1) * 4)
            let croppedMap = rows(map, h)
            for j in 0..<28 {
                try StopSignal.check()
                let graph = Graph(backend: backend)
                let logits = try graph.values(try network(map: try graph.constant(croppedMap, shape: [batch, h, 28, 1]),
                    images: try graph.constant(rows(draws, h), shape: [batch, h, 28, 1]), in: graph))
                for b in 0..<batch {
                    let p = 1 / (1 + Foundation.exp(-logits[b * h * 28 + i * 28 + j]))
                    let e = b * 784 + i * 28 + j
                    probabilities[e] = p
                    draws[e] = BernoulliDraw.uniform(element: e, seed: seed, stream: stream) < p ? 1 : 0
                }
            }
        }
        return (draws, probabilities)
    }
}
