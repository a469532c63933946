import RDCompute

extension KeyedDecodingContainer {
    /// The value under `key`, or `fallback` when a file written before the setting existed lacks it.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

extension AlemiSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case latentDimension, activation, symmetricInputs, encoder, decoder, marginal, flowSteps, madeHidden
        case vampComponents, pixelcnnFeatures, pixelcnnResnets, channel, delta
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AlemiSpec()
        let channel = try c.value(.channel, or: d.channel)
        self.init(latentDimension: try c.value(.latentDimension, or: d.latentDimension),
            activation: try c.value(.activation, or: d.activation), symmetricInputs: try c.value(.symmetricInputs, or: d.symmetricInputs),
            encoder: try c.value(.encoder, or: d.encoder), decoder: try c.value(.decoder, or: d.decoder),
            marginal: try c.value(.marginal, or: d.marginal), flowSteps: try c.value(.flowSteps, or: d.flowSteps),
            madeHidden: try c.value(.madeHidden, or: d.madeHidden), vampComponents: try c.value(.vampComponents, or: d.vampComponents),
            pixelcnnFeatures: try c.value(.pixelcnnFeatures, or: d.pixelcnnFeatures),
            pixelcnnResnets: try c.value(.pixelcnnResnets, or: d.pixelcnnResnets), channel: channel,
            delta: channel == .delta ? try c.value(.delta, or: d.delta) : d.delta)  // a Gaussian channel has no δ
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(latentDimension, forKey: .latentDimension)
        try c.encode(activation, forKey: .activation)
        try c.encode(symmetricInputs, forKey: .symmetricInputs)
        try c.encode(self.encoder, forKey: .encoder)
        try c.encode(decoder, forKey: .decoder)
        try c.encode(marginal, forKey: .marginal)
        try c.encode(flowSteps, forKey: .flowSteps)
        try c.encode(madeHidden, forKey: .madeHidden)
        try c.encode(vampComponents, forKey: .vampComponents)
        try c.encode(pixelcnnFeatures, forKey: .pixelcnnFeatures)
        try c.encode(pixelcnnResnets, forKey: .pixelcnnResnets)
        try c.encode(channel, forKey: .channel)
        if channel == .delta { try c.encode(delta, forKey: .delta) }  // a Gaussian channel has no δ
    }
}

extension EchoSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case latentDimension, activation, symmetricInputs, echoTerms, echoReplacement, decoder, pixelcnnFeatures, pixelcnnResnets
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = EchoSpec()
        self.init(latentDimension: try c.value(.latentDimension, or: d.latentDimension),
            activation: try c.value(.activation, or: d.activation), symmetricInputs: try c.value(.symmetricInputs, or: d.symmetricInputs),
            terms: try c.value(.echoTerms, or: d.terms), replacement: try c.value(.echoReplacement, or: d.replacement),
            decoder: try c.value(.decoder, or: d.decoder), pixelcnnFeatures: try c.value(.pixelcnnFeatures, or: d.pixelcnnFeatures),
            pixelcnnResnets: try c.value(.pixelcnnResnets, or: d.pixelcnnResnets))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(latentDimension, forKey: .latentDimension)
        try c.encode(activation, forKey: .activation)
        try c.encode(symmetricInputs, forKey: .symmetricInputs)
        try c.encode(terms, forKey: .echoTerms)
        try c.encode(replacement, forKey: .echoReplacement)
        try c.encode(decoder, forKey: .decoder)
        try c.encode(pixelcnnFeatures, forKey: .pixelcnnFeatures)
        try c.encode(pixelcnnResnets, forKey: .pixelcnnResnets)
    }
}

extension ToySpec: Codable {
    enum CodingKeys: String, CodingKey {
        case initialization
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(initialization: try c.value(.initialization, or: ToySpec().initialization))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(initialization, forKey: .initialization)
    }
}

/// The model settings as releases before the typed ``ModelSpec`` wrote them (`config.json`'s
/// `settings.model` and the checkpoint's `model` metadata): one flat record of strings for
/// every model. Read only, to turn into a ``ModelSpec``; a value no release wrote is an error
/// that names the field.
struct LegacyModelConfiguration: Decodable {
    var latentDimension: Int?
    var activation: String?
    var symmetricInputs: Bool?
    var channel: String?
    var echoTerms: Int?
    var echoReplacement: String?
    var encoder: String?
    var flowSteps: Int?
    var madeHidden: [Int]?
    var marginal: String?
    var decoder: String?
    var vampComponents: Int?
    var pixelcnnFeatures: Int?
    var pixelcnnResnets: Int?

    /// The typed specification; errors name the field below `path` (where the record was read).
    func spec(at path: [any CodingKey]) throws -> ModelSpec {
        func named<T: RawRepresentable & CaseIterable>(_ text: String?, _ field: String, default value: T) throws -> T
        where T.RawValue == String {
            guard let text else { return value }
            guard let parsed = T(rawValue: text) else {
                throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path + [AnyKey(field)],
                    debugDescription: "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            return parsed
        }
        let activation = try named(activation, "activation", default: Activation.relu)
        let decoder = try named(decoder, "decoder", default: DecoderKind.deconv)
        let encoder = try named(encoder, "encoder", default: EncoderKind.gaussian)
        let marginal = try named(marginal, "marginal", default: MarginalKind.normal)
        let a = AlemiSpec()
        switch channel ?? "gaussian" {
        case "gaussian":
            return .alemi(AlemiSpec(latentDimension: latentDimension ?? a.latentDimension, activation: activation,
                symmetricInputs: symmetricInputs ?? false, encoder: encoder, decoder: decoder, marginal: marginal,
                flowSteps: flowSteps ?? a.flowSteps, madeHidden: madeHidden ?? a.madeHidden,
                vampComponents: vampComponents ?? a.vampComponents, pixelcnnFeatures: pixelcnnFeatures ?? a.pixelcnnFeatures,
                pixelcnnResnets: pixelcnnResnets ?? a.pixelcnnResnets))
        case "echo":
            guard encoder == .gaussian, marginal == .normal else {
                throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path + [AnyKey("channel")],
                    debugDescription: "the echo channel has its own exact rate: it needs encoder gaussian and marginal normal"))
            }
            let e = EchoSpec()
            return .echo(EchoSpec(latentDimension: latentDimension ?? e.latentDimension, activation: activation,
                symmetricInputs: symmetricInputs ?? false, terms: echoTerms ?? e.terms,
                replacement: try named(echoReplacement, "echoReplacement", default: e.replacement), decoder: decoder,
                pixelcnnFeatures: pixelcnnFeatures ?? e.pixelcnnFeatures, pixelcnnResnets: pixelcnnResnets ?? e.pixelcnnResnets))
        case let other:
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path + [AnyKey("channel")],
                debugDescription: "'\(other)' is not one of gaussian, echo"))
        }
    }
}

/// A coding key made from a field name, for errors about legacy fields.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension HierarchicalSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case inference, channels, latentDimension
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HierarchicalSpec()
        self.init(inference: try c.value(.inference, or: d.inference), channels: try c.value(.channels, or: d.channels),
            topDimension: try c.value(.latentDimension, or: d.topDimension))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inference, forKey: .inference)
        try c.encode(channels, forKey: .channels)
        try c.encode(topDimension, forKey: .latentDimension)
    }
}
