import RDCompute

/// A sum of linear maps of several inputs plus a bias: `Σ_k f_k(x_k, W_k) + b`, the building
/// block of PixelCNN++ layers whose input is a channel concatenation (a linear map of a
/// concatenation is the sum of the maps of its parts, so no concatenation is materialised).
struct LinearSum {
    /// How term k maps its input with its weight.
    typealias Map = (Tensor, Tensor, Graph) throws -> Tensor
    let weights: [Parameter]
    let maps: [Map]
    let bias: Parameter

    /// `terms`: (parameter name, weight shape, Glorot fans, map) per input.
    init(_ name: String, terms: [(name: String, shape: [Int], fans: (Int, Int), map: Map)], channels: Int,
        backend: any Backend, seed: UInt64) throws {
        weights = try terms.map { term in
            try Initializer.glorotUniform(fanIn: term.fans.0, fanOut: term.fans.1)
                .make("\(name).\(term.name).weight", shape: term.shape, backend: backend, seed: seed)
        }
        maps = terms.map(\.map)
        bias = try Initializer.zeros.make("\(name).bias", shape: [channels], backend: backend, seed: seed)
    }

    var parameters: [Parameter] { weights + [bias] }

    func callAsFunction(_ inputs: [Tensor], in graph: Graph) throws -> Tensor {
        var sum = try maps[0](inputs[0], weights[0].tensor, graph)
        for k in 1..<inputs.count { sum = try graph.add(sum, try maps[k](inputs[k], weights[k].tensor, graph)) }
        return try graph.addBias(sum, bias.tensor)
    }
}

/// Alemi's gated unit over a ``LinearSum``: `value(x) ⊙ σ(gate(x))`.
struct GatedSum {
    let value: LinearSum
    let gate: LinearSum

    init(_ name: String, terms: [(name: String, shape: [Int], fans: (Int, Int), map: LinearSum.Map)], channels: Int,
        backend: any Backend, seed: UInt64) throws {
        value = try LinearSum(name, terms: terms, channels: channels, backend: backend, seed: seed)
        gate = try LinearSum("\(name).gate", terms: terms, channels: channels, backend: backend, seed: seed)
    }

    var parameters: [Parameter] { value.parameters + gate.parameters }

    func callAsFunction(_ inputs: [Tensor], in graph: Graph) throws -> Tensor {
        try graph.gated(try value(inputs, in: graph), try gate(inputs, in: graph))
    }
}

/// PixelCNN++'s gated resnet with every convolution gated (seed-spec §4.4's reading):
/// `c₁ = g(conv(x) + Σ nin(a_k))`, `c₂ = g(conv(c₁))`, `out = x + c₂`, where `g` is the gated
/// unit, `conv` the stream's shifted convolution and `nin` a 1×1 convolution of each skip input.
struct GatedResnet {
    let first: GatedSum
    let second: GatedSum

    /// `conv(x, w, graph)` is the stream's convolution with kernel `[kh, kw]`; `skips` inputs of F channels.
    init(_ name: String, features f: Int, kernel: (Int, Int), skips: Int, conv: @escaping LinearSum.Map, backend: any Backend,
        seed: UInt64) throws {
        let taps = kernel.0 * kernel.1
        let convTerm = (name: "conv", shape: [kernel.0, kernel.1, f, f], fans: (taps * f, taps * f), map: conv)
        let ninTerms = (0..<skips).map { k in
            (name: "nin\(k + 1)", shape: [f, f], fans: (f, f), map: { (x: Tensor, w: Tensor, g: Graph) in try g.matmul(x, w) } as LinearSum.Map)
        }
        first = try GatedSum("\(name).c1", terms: [convTerm] + ninTerms, channels: f, backend: backend, seed: seed)
        second = try GatedSum("\(name).c2", terms: [convTerm], channels: f, backend: backend, seed: seed)
    }

    var parameters: [Parameter] { first.parameters + second.parameters }

    /// A checkpointed segment: under ``ActivationMemory/recomputed`` only `x` and `skips` are
    /// kept for the backward pass.
    func callAsFunction(_ x: Tensor, skips: [Tensor], in graph: Graph) throws -> Tensor {
        try graph.checkpointed([x] + skips, parameters: parameters.map(\.tensor)) { graph, inputs in
            let c1 = try first(inputs, in: graph)
            return try graph.add(inputs[0], try second([c1], in: graph))
        }
    }
}
