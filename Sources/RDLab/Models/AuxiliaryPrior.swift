import RDCompute

/// The δ-VAE's auxiliary prior (seed-spec §9.4): a one-layer LSTM over the latent sequence
/// with a diagonal Gaussian output per step,
///
///     p_aux(z) = Π_t N(z_t; μ_t, σ_t²),   (μ_t, σ_t) = heads(h_t),   h_t = LSTM(z_{t−1}, h_{t−1}),
///
/// with z_0 = 0 and h_0 = c_0 = 0. PyTorch's cell: i, f, o = sigmoid, g = tanh of
/// `W_x z_{t−1} + b_x + W_h h_{t−1} + b_h` per gate, `c_t = f c_{t−1} + i g`,
/// `h_t = o tanh(c_t)`; σ_t = softplus(·) + 1e-4. It is trained by maximum likelihood on
/// posterior samples the caller has cut from the tape, so it changes neither encoder nor
/// decoder; the rate measured against it, E[log q(z|x) − log p_aux(z)], is a second, tighter
/// figure beside the AR(1) prior's KL. Built from matmuls and elementwise ops: per step, one
/// selection of z_t by a 0/1 matrix `[n·d, d]`, ten linear maps (eight for the gates, two
/// heads) and about twenty elementwise ops.
final class AuxiliaryPrior: ParameterContainer {
    let steps: Int
    let dimension: Int
    let hidden: Int
    /// Per gate (i, f, g, o): the map of the previous latent and of the previous hidden state.
    let gates: [(input: PyTorchLinear, recurrent: PyTorchLinear)]
    let mean: PyTorchLinear
    let scale: PyTorchLinear

    init(steps n: Int, dimension d: Int, hidden h: Int, backend: any Backend, seed: UInt64) throws {
        steps = n
        dimension = d
        hidden = h
        gates = try ["input", "forget", "cell", "output"].map { gate in
            (try PyTorchLinear("aux.lstm.\(gate).input", inputs: d, outputs: h, backend: backend, seed: seed),
                try PyTorchLinear("aux.lstm.\(gate).recurrent", inputs: h, outputs: h, backend: backend, seed: seed))
        }
        mean = try PyTorchLinear("aux.mean", inputs: h, outputs: d, backend: backend, seed: seed)
        scale = try PyTorchLinear("aux.scale", inputs: h, outputs: d, activation: .softplus, backend: backend, seed: seed)
    }

    var parameters: [Parameter] {
        gates.flatMap { $0.input.parameters + $0.recurrent.parameters } + mean.parameters + scale.parameters
    }

    /// One step of the cell from the previous latent `[B, d]` and state: the new state and
    /// the Gaussian of the next latent.
    func step(_ previous: Tensor, _ state: (h: Tensor, c: Tensor), in graph: Graph) throws
        -> (h: Tensor, c: Tensor, next: DiagonalGaussian) {
        func gate(_ k: Int) throws -> Tensor {
            try graph.add(try gates[k].input(previous, in: graph), try gates[k].recurrent(state.h, in: graph))
        }
        let i = try graph.sigmoid(try gate(0)), f = try graph.sigmoid(try gate(1))
        let g = try graph.tanh(try gate(2)), o = try graph.sigmoid(try gate(3))
        let c = try graph.add(try graph.mul(f, state.c), try graph.mul(i, g))
        let h = try graph.mul(o, try graph.tanh(c))
        return (h, c, DiagonalGaussian(mean: try mean(h, in: graph), scale: try graph.add(try scale(h, in: graph), try graph.scalar(1e-4))))
    }

    /// log p_aux(z) per example `[B]` of latent sequences `[B, n·d]` (row-major in t).
    func logDensity(_ z: Tensor, in graph: Graph) throws -> Tensor {
        let batch = z.shape[0], n = steps, d = dimension
        var previous = try graph.filled(0, shape: [batch, d])
        let zeros = try graph.filled(0, shape: [batch, hidden])
        var state = (h: zeros, c: zeros)
        var total: Tensor?
        for t in 0..<n {
            let (h, c, next) = try step(previous, state, in: graph)
            state = (h, c)
            let selection = try graph.constant((0..<(n * d * d)).map { e in e / d == t * d + e % d ? 1 : 0 }, shape: [n * d, d])
            let current = try graph.matmul(z, selection)
            let term = try next.logDensity(current, in: graph)
            total = try total.map { try graph.add($0, term) } ?? term
            previous = current
        }
        guard let total else { throw ComputeError.invalidArgument(op: "AuxiliaryPrior", reason: "a sequence of no steps") }
        return total
    }
}
