/// In JSON a weight is its `kind` beside its settings: `{"kind": "target-rate", "rate": 10, …}`.
extension RateWeight: Codable {
    enum Kind: String, NamedChoice {
        case constant, annealed, targetRate = "target-rate", geco
    }

    enum CodingKeys: String, CodingKey { case kind, beta, steps }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .constant: self = .constant(beta: try c.decode(Float.self, forKey: .beta))
        case .annealed: self = .annealed(beta: try c.decode(Float.self, forKey: .beta), steps: try c.decode(Int.self, forKey: .steps))
        case .targetRate: self = .targetRate(try TargetRate(from: decoder))
        case .geco: self = .geco(try GECO(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .constant(let beta):
            try c.encode(Kind.constant, forKey: .kind)
            try c.encode(beta, forKey: .beta)
        case .annealed(let beta, let steps):
            try c.encode(Kind.annealed, forKey: .kind)
            try c.encode(beta, forKey: .beta)
            try c.encode(steps, forKey: .steps)
        case .targetRate(let target):
            try c.encode(Kind.targetRate, forKey: .kind)
            try target.encode(to: encoder)
        case .geco(let geco):
            try c.encode(Kind.geco, forKey: .kind)
            try geco.encode(to: encoder)
        }
    }
}

extension ObjectiveSpec: Codable {
    enum CodingKeys: String, CodingKey { case weight, layers, freeBits, warmUp }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(weight: try c.decode(RateWeight.self, forKey: .weight), layers: try c.value(.layers, or: [:]),
            freeBits: try c.decodeIfPresent(FreeBits.self, forKey: .freeBits), warmUp: try c.decodeIfPresent(KLWarmUp.self, forKey: .warmUp))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(weight, forKey: .weight)
        if !layers.isEmpty { try c.encode(layers, forKey: .layers) }
        try c.encodeIfPresent(freeBits, forKey: .freeBits)
        try c.encodeIfPresent(warmUp, forKey: .warmUp)
    }
}

extension TargetRate {
    enum CodingKeys: String, CodingKey { case rate, learningRate, bound, initialMultiplier, penalty }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TargetRate(rate: 0)
        self.init(rate: try c.decode(Double.self, forKey: .rate), learningRate: try c.value(.learningRate, or: d.learningRate),
            bound: try c.value(.bound, or: d.bound), initialMultiplier: try c.value(.initialMultiplier, or: d.initialMultiplier),
            penalty: try c.value(.penalty, or: d.penalty))
    }
}

extension GECO {
    enum CodingKeys: String, CodingKey { case distortion, learningRate, smoothing, initialMultiplier }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GECO(distortion: 0)
        self.init(distortion: try c.decode(Double.self, forKey: .distortion), learningRate: try c.value(.learningRate, or: d.learningRate),
            smoothing: try c.value(.smoothing, or: d.smoothing), initialMultiplier: try c.value(.initialMultiplier, or: d.initialMultiplier))
    }
}
