import Foundation

/// Settings of the δ-VAE's sequence model (seed-spec §9, at MNIST scale): one `d`-dimensional
/// latent z_t per image row (n = 28), an AR(1) prior whose α_k are spaced linearly in
/// `[alphaLower, alphaUpper]` over the d dimensions, an anti-causal row encoder
/// (``RowEncoder``), a PixelCNN decoder whose row t reads z_{≤t}, and the auxiliary LSTM prior
/// (`auxiliaryHidden` units; 0 leaves it out). The committed rate is
/// δ = ½ Σ_k [(n − 2) ln(1 + α_k²) − ln(1 − α_k²)] nats (48.24 at the defaults).
public struct DeltaSpec: Equatable, Sendable {
    /// Latent dimensions per row (d).
    public var rowDimension: Int
    /// α of the first and last latent dimension.
    public var alphaLower: Double
    public var alphaUpper: Double
    /// PixelCNN decoder: channels of every layer, gated resnets per block.
    public var pixelcnnFeatures: Int
    public var pixelcnnResnets: Int
    /// Hidden units of the auxiliary LSTM prior (0: none).
    public var auxiliaryHidden: Int

    /// The rows of a 28×28 image: the length n of the latent sequence.
    public static let rows = 28

    /// The seed-spec's MNIST setting: d = 8, α ∈ [0.5, 0.95], Alemi's PixelCNN decoder, a
    /// 128-unit auxiliary LSTM.
    public init(rowDimension: Int = 8, alphaLower: Double = 0.5, alphaUpper: Double = 0.95, pixelcnnFeatures: Int = 64,
        pixelcnnResnets: Int = 2, auxiliaryHidden: Int = 128) {
        self.rowDimension = rowDimension
        self.alphaLower = alphaLower
        self.alphaUpper = alphaUpper
        self.pixelcnnFeatures = pixelcnnFeatures
        self.pixelcnnResnets = pixelcnnResnets
        self.auxiliaryHidden = auxiliaryHidden
    }

    /// The AR(1) prior of the latent sequence: α_k linearly spaced over the d dimensions.
    public var prior: AR1Prior { .linearlySpaced(from: alphaLower, to: alphaUpper, count: rowDimension) }

    /// The committed rate δ in nats: the smallest KL any diagonal posterior can have.
    public var committedRate: Double { prior.committedRate(steps: Self.rows) }

    /// Latent dimensions in all: n·d.
    public var latentDimension: Int { Self.rows * rowDimension }

    public func problem() -> SettingProblem? {
        var alphaProblem = ""
        do { _ = try AlphaRange(lower: alphaLower, upper: alphaUpper) } catch { alphaProblem = error.description }
        let checks: [(Bool, Setting, String)] = [
            ((1...64).contains(rowDimension), .latentDimension, "must be between 1 and 64 latent dimensions per row (got \(rowDimension); the paper uses 8 to 32)"),
            (alphaProblem.isEmpty, .alpha, "is not a range of AR(1) coefficients: \(alphaProblem)"),
            ((1...512).contains(pixelcnnFeatures), .pixelcnnFeatures, "must be between 1 and 512 (got \(pixelcnnFeatures))"),
            ((1...8).contains(pixelcnnResnets), .pixelcnnResnets, "must be between 1 and 8 (got \(pixelcnnResnets))"),
            ((0...4096).contains(auxiliaryHidden), .auxiliaryHidden, "must be between 0 (no auxiliary prior) and 4096 (got \(auxiliaryHidden))"),
        ]
        return checks.first { !$0.0 }.map { SettingProblem(setting: $0.1, reason: $0.2) }
    }
}

extension DeltaSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case latentDimension, alpha, pixelcnnFeatures, pixelcnnResnets, auxiliaryHidden
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DeltaSpec()
        let alpha = try c.value(.alpha, or: [d.alphaLower, d.alphaUpper])
        guard alpha.count == 2 else {
            throw DecodingError.dataCorruptedError(forKey: .alpha, in: c, debugDescription: "holds \(alpha.count) numbers, not [lower, upper]")
        }
        self.init(rowDimension: try c.value(.latentDimension, or: d.rowDimension), alphaLower: alpha[0], alphaUpper: alpha[1],
            pixelcnnFeatures: try c.value(.pixelcnnFeatures, or: d.pixelcnnFeatures),
            pixelcnnResnets: try c.value(.pixelcnnResnets, or: d.pixelcnnResnets),
            auxiliaryHidden: try c.value(.auxiliaryHidden, or: d.auxiliaryHidden))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rowDimension, forKey: .latentDimension)
        try c.encode([alphaLower, alphaUpper], forKey: .alpha)
        try c.encode(pixelcnnFeatures, forKey: .pixelcnnFeatures)
        try c.encode(pixelcnnResnets, forKey: .pixelcnnResnets)
        try c.encode(auxiliaryHidden, forKey: .auxiliaryHidden)
    }
}
