/// A compute backend bound to one device: the op-level plugin API of rdlab.
///
/// All tensors are fp32 ``DeviceBuffer``s made by the same instance; every op validates
/// sizes and ownership and throws ``ComputeError`` instead of trapping. Ops are enqueued in
/// order; ``download(_:)`` and ``synchronize()`` wait for what came before.
///
/// A backend must have its identity and the buffer methods; every op method has a default
/// (`Backend+Unsupported.swift`) that throws ``ComputeError/unsupported(op:backend:reason:)``,
/// so a backend implements the ops it has and lists them in ``supportedOps``.
/// Implementations: `CPUBackend` (RDBackendCPU), `OpenCLBackend` (RDBackendOpenCL), both
/// with every op.
public protocol Backend: AnyObject, Sendable {
    /// Identity stamped on every buffer this instance makes.
    var instanceID: BackendInstanceID { get }
    /// The device this instance computes on.
    var device: DeviceDescription { get }
    /// The ops this backend implements: exactly those whose methods it overrides
    /// (`Set(Op.allCases)` for a complete backend). Query it with ``supports(_:)``.
    var supportedOps: Set<Op> { get }

    // MARK: Buffers
    func makeBuffer(count: Int) throws -> DeviceBuffer
    func upload(_ values: [Float], to buffer: DeviceBuffer) throws
    func download(_ buffer: DeviceBuffer) throws -> [Float]
    /// Copies the buffer's values into `values` (of the buffer's count), waiting for what came
    /// before: a read that allocates nothing, for a replayed step. The default downloads an
    /// array and copies it.
    func download(_ buffer: DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws
    /// Copies `source` into `destination` (same element count).
    func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws
    func fill(_ buffer: DeviceBuffer, with value: Float) throws
    /// Waits until every enqueued op has finished.
    func synchronize() throws
    /// A buffer of 32-bit integer words (an ``EchoIndexTable/words`` table); only the echo
    /// ops read it. The default stores the words' bit patterns in an fp32 buffer, as the
    /// built-in backends do.
    func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer

    // MARK: Linear algebra and convolution
    /// `C = alpha · op(A) · op(B) + beta · C`, see ``GemmDescriptor``.
    func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws
    func conv2dForward(_ geometry: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws
    /// Gradient of the input (overwritten); also the forward pass of a transposed convolution.
    func conv2dBackwardData(
        _ geometry: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer, gradInput: DeviceBuffer) throws
    /// Gradient of the HWIO filter (overwritten).
    func conv2dBackwardFilter(
        _ geometry: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer, gradFilter: DeviceBuffer) throws
    /// A convolution pass followed by an elementwise epilogue on what it writes, in one op:
    /// `output = epilogue(pass(input, filter))`, bit for bit the pass and then
    /// ``biasReLU(_:bias:output:)`` (`.biasReLU`) or the `gradInput` of
    /// ``biasReLUBackward(output:gradOutput:gradInput:gradBias:)`` (`.reluGate`) in place. A
    /// backend can finish each part of the output while it is still in cache; a replayed step
    /// plan uses it where a pass's only reader is that elementwise op. `output` must be a buffer
    /// of its own (not `input`, `filter` or the epilogue's operand).
    func conv2dFused(_ geometry: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer, filter: DeviceBuffer,
        epilogue: ConvEpilogue, output: DeviceBuffer) throws
    /// `output[i] = x[i] + bias[i % channels]` (channels last).
    func biasAdd(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws
    /// `gradBias[c] = Σ_i gradOutput[i·channels + c]`, channels = `gradBias.count`.
    func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws
    /// `output[i] = max(x[i] + bias[i % channels], 0)`: bias add and ReLU in one pass.
    func biasReLU(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws
    /// The backward pass of ``biasReLU(_:bias:output:)`` from its output, in one pass:
    /// `gradInput[i] = output[i] > 0 ? gradOutput[i] : 0` and
    /// `gradBias[c] = Σ_i gradInput[i·channels + c]`, channels = `gradBias.count`.
    func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws

    // MARK: Elementwise and reductions
    func unary(_ op: UnaryOp, _ x: DeviceBuffer, output: DeviceBuffer) throws
    /// `gradInput = f'(x) · gradOutput`.
    func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer) throws
    /// `output = a ∘ b` with NumPy broadcasting; `output` has the broadcast shape.
    func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws
    /// Reduces `axes` of `x` (row-major `shape`); `output` has the remaining dimensions.
    func reduce(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws

    // MARK: Fused losses (rows = examples)
    /// `output[r] = Σ_c softplus(l[r,c]) − x[r,c]·l[r,c]`: Bernoulli NLL with logits, in nats.
    func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws
    /// `gradLogits[r,c] = (σ(l[r,c]) − x[r,c]) · gradOutput[r]`.
    func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws
    /// `output[r] = ½ Σ_c μ² + σ² − 1 − ln σ²`: KL of N(μ, σ²) to N(0, 1); `scale` is σ.
    func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws
    /// `gradMean = μ · g[r]`, `gradScale = (σ − 1/σ) · g[r]`.
    func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws
    /// KL divergence between two diagonal Gaussians, per row (example), summed over columns:
    ///
    /// `output[r] = Σ_c ln σp − ln σq + (σq² + (μq − μp)²) / (2 σp²) − ½`
    ///
    /// for `q = N(μq, σq²)` (`meanQ`, `scaleQ`) and `p = N(μp, σp²)` (`meanP`, `scaleP`), all
    /// `[rows, columns]`. Scales are standard deviations σ (not variances), all > 0. Each term
    /// is computed as `((σq − σp)(σq + σp) + (μq − μp)²) / (2 σp²) − ln(1 + (σq − σp)/σp)`, so
    /// it is exactly 0 where q = p on every backend. With μp = 0 and σp = 1 this is
    /// ``gaussianKL(mean:scale:rows:output:)``.
    func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws
    /// The backward pass of ``gaussianKLPair(meanQ:scaleQ:meanP:scaleP:rows:output:)`` in one
    /// pass, given `g[r] = ∂L/∂KL[r]` (`gradOutput`, one per row; all four outputs overwritten):
    ///
    /// - `gradMeanQ = g · (μq − μp) / σp²`
    /// - `gradMeanP = −gradMeanQ`
    /// - `gradScaleQ = g · (σq / σp² − 1 / σq)`
    /// - `gradScaleP = g · (1 / σp − (σq² + (μq − μp)²) / σp³)`
    ///
    /// (computed in forms that are exactly 0 where q = p).
    func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer, gradMeanP: DeviceBuffer,
        gradScaleP: DeviceBuffer) throws
    /// KL divergence of a diagonal Gaussian sequence posterior to an AR(1) prior (δ-VAE,
    /// seed-spec §9.2, eq. 3), per row (example), summed over steps t and dimensions k:
    ///
    /// `output[r] = ½ Σ_k [ f(σ₁²) + μ₁² + Σ_{t=2}^{n} ( f(σ_t²/(1 − α²)) + ((μ_t − α μ_{t−1})² + α² σ_{t−1}²)/(1 − α²) ) ]`
    ///
    /// with `f(u) = u − ln u − 1`, α = `alpha[k]`, and μ_t, σ_t the `mean` and `scale` (σ, a
    /// standard deviation) of step t in dimension k. `mean` and `scale` are `[rows, n, d]`
    /// row-major (example, step, dimension) with d = `alpha.count` and n = count / (rows · d);
    /// the prior is z₁ ~ N(0, 1), z_t | z_{t−1} ~ N(α z_{t−1}, 1 − α²). α must lie in (−1, 1)
    /// (not checked: a device op does not read its operands). With n = 1 or α = 0 this is
    /// ``gaussianKL(mean:scale:rows:output:)``.
    func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int, output: DeviceBuffer) throws
    /// The backward pass of ``ar1KL(mean:scale:alpha:rows:output:)`` in one pass, given
    /// `g[r] = ∂L/∂KL[r]` (`gradOutput`, one per row; both outputs overwritten; α gets none).
    /// Step t appears in term t and, through μ_{t−1} and σ_{t−1}, in term t + 1; with c = 1 − α²:
    ///
    /// - `gradMean_t = g · ( [t = 1] μ₁ + [t > 1] (μ_t − α μ_{t−1})/c − [t < n] α (μ_{t+1} − α μ_t)/c )`
    /// - `gradScale_t = g · ( σ_t ([t = 1] + [t > 1]/c + [t < n] α²/c) − 1/σ_t )`
    func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws

    // MARK: Random numbers (Philox-4x32-10, see ``Philox``)
    /// Uniform [0, 1) values for elements `offset ..< offset + buffer.count` of stream (seed, stream).
    func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws
    /// Standard normal values for the same element range; `offset` must be even.
    func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws

    // MARK: Echo, masked layers and optimisation
    /// Echo noise (seed-spec §2.4): `noise[i] = Σ_l (Π_{m<l} s[P[i,m]]) · f[P[i,l]]` with
    /// `s = exp(logScale)`, and `z = f + s ⊙ noise`; `indices` from ``makeIndexBuffer(_:)``.
    func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws
    /// Gradients of a loss through `z` into `f` and `logScale` of every batch member
    /// (overwritten), given the forward pass's `noise` and `gradZ = ∂L/∂z`.
    func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws

    /// `y = x·(W ⊙ M) + b` for the MADE mask of `shape`, skipping masked-out blocks.
    func maskedDenseForward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws
    /// Gradients of a masked dense layer (all overwritten): `gradInput = gy·(W ⊙ M)ᵀ`,
    /// `gradWeight = (xᵀ·gy) ⊙ M` (zero where masked), `gradBias = Σ_batch gy`.
    func maskedDenseBackward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws

    /// A convolution over the active taps of `shape` only (filter `[taps, in, out]`).
    func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws
    /// The input gradient of ``maskedConv2dForward(_:input:filter:output:)`` (overwritten).
    func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws
    /// The filter gradient of ``maskedConv2dForward(_:input:filter:output:)`` over the active taps (overwritten).
    func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws

    /// One fused Adam update of `parameter` in place, step `step ≥ 1`.
    func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws
}

extension Backend {
    /// Whether `op` is implemented, i.e. in ``supportedOps``; an op that is not throws
    /// ``ComputeError/unsupported(op:backend:reason:)``.
    public func supports(_ op: Op) -> Bool { supportedOps.contains(op) }

    /// `cpu` or `opencl:N (device name)`, for messages.
    public var displayName: String {
        device.backend == "cpu" ? "cpu" : "\(device.selector) (\(device.name))"
    }

    /// Allocates and fills a buffer in one call.
    public func makeBuffer(_ values: [Float]) throws -> DeviceBuffer {
        let buffer = try makeBuffer(count: values.count)
        try upload(values, to: buffer)
        return buffer
    }

    public func download(_ buffer: DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        try OpValidation.hostCount("download", buffer, values.count)
        _ = values.update(fromContentsOf: try download(buffer))
    }

    /// The words' bit patterns in a buffer from ``makeBuffer(count:)`` and ``upload(_:to:)``.
    public func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer {
        try makeBuffer(words.map { Float(bitPattern: UInt32(bitPattern: $0)) })
    }

    /// Throws unless `buffer` was made by this instance.
    public func checkOwnership(_ buffer: DeviceBuffer) throws {
        guard buffer.owner == instanceID else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
    }
}
