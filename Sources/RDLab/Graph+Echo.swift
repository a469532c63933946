import RDCompute

extension Graph {
    /// The Echo channel `z = f + exp(logScale) ⊙ ε` with ε the Echo noise of the batch drawn
    /// through `table` (seed-spec §2). `f` and `logScale` are `[B, D]`; gradients reach both,
    /// including through the other examples' noise. Returns z and the noise (no gradient).
    public func echo(f: Tensor, logScale: Tensor, table: EchoIndexTable) throws -> (z: Tensor, noise: Tensor) {
        guard f.shape == logScale.shape, f.shape.count == 2, f.shape[0] == table.batch else {
            throw ComputeError.invalidArgument(op: "echo",
                reason: "f \(f.shape) and log-scale \(logScale.shape) must both be [\(table.batch), D]")
        }
        let shape = EchoShape(batch: f.shape[0], dimensions: f.shape[1], terms: table.terms)
        let indices = try backend.makeIndexBuffer(table.words)
        let noise = try output(f.shape), z = try output(f.shape)
        try backend.echoForward(shape, f: f.buffer, logScale: logScale.buffer, indices: indices, noise: noise, z: z)
        let latent = record(f.shape, z, inputs: [f, logScale]) { [backend] gz in
            let gf = try backend.makeBuffer(count: shape.count), gls = try backend.makeBuffer(count: shape.count)
            try backend.echoBackward(shape, f: f.buffer, logScale: logScale.buffer, indices: indices, noise: noise, gradZ: gz,
                gradF: gf, gradLogScale: gls)
            return [gf, gls]
        }
        return (latent, Tensor(shape: f.shape, buffer: noise))
    }
}
