import RDCompute

/// Elementwise functions, broadcasting arithmetic, reshapes and reductions.
extension Graph {
    /// `f(x)` for a unary op; its backward is the backend's `unaryBackward`.
    public func unary(_ op: UnaryOp, _ x: Tensor) throws -> Tensor {
        let y = try output(x.shape)
        try backend.unary(op, x.buffer, output: y)
        return record(x.shape, y, inputs: [x]) { [backend] gy in
            let dx = try backend.makeBuffer(count: x.count)
            try backend.unaryBackward(op, x: x.buffer, gradOutput: gy, gradInput: dx)
            return [dx]
        }
    }

    public func relu(_ x: Tensor) throws -> Tensor { try unary(.relu, x) }
    public func sigmoid(_ x: Tensor) throws -> Tensor { try unary(.sigmoid, x) }
    public func softplus(_ x: Tensor) throws -> Tensor { try unary(.softplus, x) }
    public func tanh(_ x: Tensor) throws -> Tensor { try unary(.tanh, x) }
    public func exp(_ x: Tensor) throws -> Tensor { try unary(.exp, x) }
    public func log(_ x: Tensor) throws -> Tensor { try unary(.log, x) }

    /// `a ∘ b` with NumPy broadcasting; gradients are summed back over broadcast axes. The
    /// backward rule keeps only the operands it reads: none for `add` and `sub`, the other
    /// operand for `mul`, `b` and the output for `div`.
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape)
        let y = try output(shape)
        try backend.binary(op, a.buffer, shape: a.shape, b.buffer, shape: b.shape, output: y)
        let (needA, needB) = (a.requiresGradient, b.requiresGradient)
        // dL/da and dL/db at the broadcast shape, from dL/dy
        let rule: (Tensor) throws -> (Tensor?, Tensor?)
        switch op {
        case .add:
            rule = { g in (g, g) }
        case .sub:
            rule = { [unowned self] g in (g, needB ? try raw(.sub, try scalar(0), g) : nil) }
        case .mul:
            let (forA, forB) = (needA ? b : nil, needB ? a : nil)
            rule = { [unowned self] g in (try forA.map { try raw(.mul, g, $0) }, try forB.map { try raw(.mul, g, $0) }) }
        case .div:
            // d(a/b)/db = −(a/b)/b
            let out = needB ? Tensor(shape: shape, buffer: y) : nil
            rule = { [unowned self] g in
                (needA ? try raw(.div, g, b) : nil, try out.map { try raw(.sub, try scalar(0), try raw(.div, try raw(.mul, g, $0), b)) })
            }
        case .max:
            // the gradient goes to a where a > b, else to b
            rule = { [unowned self] g in
                let toA = try output(shape)
                let spread = try broadcastTo(try raw(.sub, a, b), shape)
                try backend.unaryBackward(.relu, x: spread.buffer, gradOutput: g.buffer, gradInput: toA)
                let ga = Tensor(shape: shape, buffer: toA)
                return (ga, needB ? try raw(.sub, g, ga) : nil)
            }
        }
        let (shapeA, shapeB) = (a.shape, b.shape)
        return record(shape, y, inputs: [a, b]) { [unowned self] gy in
            let (ga, gb) = try rule(Tensor(shape: shape, buffer: gy))
            return [try ga.map { try sum(to: shapeA, $0).buffer }, try gb.map { try sum(to: shapeB, $0).buffer }]
        }
    }

    /// Alemi's gated unit `value ⊙ σ(gate)` (equal shapes). Its backward rule keeps `value` and
    /// `s = σ(gate)`, not the pre-activation: ∂/∂value = g ⊙ s, ∂/∂gate = g ⊙ value ⊙ s ⊙ (1 − s),
    /// one activation fewer than `mul(value, sigmoid(gate))` keeps.
    public func gated(_ value: Tensor, _ gate: Tensor) throws -> Tensor {
        guard value.shape == gate.shape else {
            throw ComputeError.invalidArgument(op: "gated", reason: "value \(value.shape) and gate \(gate.shape) differ")
        }
        let shape = value.shape
        let opening = try output(shape)
        try backend.unary(.sigmoid, gate.buffer, output: opening)
        let y = try output(shape)
        try backend.binary(.mul, value.buffer, shape: shape, opening, shape: shape, output: y)
        let s = Tensor(shape: shape, buffer: opening)
        let (needValue, needGate) = (value.requiresGradient, gate.requiresGradient)
        return record(shape, y, inputs: [value, gate]) { [unowned self] gy in
            let g = Tensor(shape: shape, buffer: gy)
            let dValue = needValue ? try raw(.mul, g, s) : nil
            let dGate = needGate
                ? try raw(.mul, try raw(.mul, g, value), try raw(.mul, s, try raw(.sub, try scalar(1), s))) : nil
            return [dValue?.buffer, dGate?.buffer]
        }
    }

    public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(.add, a, b) }
    public func sub(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(.sub, a, b) }
    public func mul(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(.mul, a, b) }
    public func div(_ a: Tensor, _ b: Tensor) throws -> Tensor { try binary(.div, a, b) }

    /// `x · factor` for a host scalar.
    public func scale(_ x: Tensor, by factor: Float) throws -> Tensor { try binary(.mul, x, try scalar(factor)) }

    /// A one-element constant.
    public func scalar(_ value: Float) throws -> Tensor { try filled(value, shape: [1]) }

    /// The untracked result of a broadcast op (for backward rules).
    func raw(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape)
        let y = try output(shape)
        try backend.binary(op, a.buffer, shape: a.shape, b.buffer, shape: b.shape, output: y)
        return Tensor(shape: shape, buffer: y)
    }

    /// `t` broadcast up to `shape` (untracked).
    func broadcastTo(_ t: Tensor, _ shape: [Int]) throws -> Tensor {
        if t.shape == shape { return t }
        return try raw(.add, try filled(0, shape: shape), t)
    }

    /// Sums a broadcast result back down to `shape` (untracked): over leading axes and axes
    /// where `shape` has 1.
    func sum(to shape: [Int], _ t: Tensor) throws -> Tensor {
        if t.shape == shape { return t }
        let lead = t.shape.count - shape.count
        let axes = t.shape.indices.filter { i in i < lead || (shape[i - lead] == 1 && t.shape[i] != 1) }
        let reduced = try output(shape)
        try backend.reduce(.sum, t.buffer, shape: t.shape, axes: axes, output: reduced)
        return Tensor(shape: shape, buffer: reduced)
    }

    /// The same values with another shape of equal size.
    public func reshape(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
        guard Broadcast.count(shape) == x.count else {
            throw ComputeError.invalidArgument(op: "reshape", reason: "\(x.shape) has \(x.count) elements, \(shape) needs \(Broadcast.count(shape))")
        }
        return record(shape, x.buffer, inputs: [x]) { gy in [gy] }
    }

    /// Sum (or mean) over `axes`; the result drops those axes (all axes: shape `[1]`).
    public func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) throws -> Tensor {
        guard op != .max else { throw ComputeError.unsupported(op: "reduce max", backend: "autodiff", reason: "no gradient rule") }
        let kept = try Broadcast.reducedShape(x.shape, axes: axes)
        let shape = kept.isEmpty ? [1] : kept
        let y = try output(shape)
        try backend.reduce(op, x.buffer, shape: x.shape, axes: axes, output: y)
        let count = axes.reduce(1) { $0 * x.shape[$1] }
        return record(shape, y, inputs: [x]) { [unowned self] gy in
            let withOnes = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
            var g = try broadcastTo(Tensor(shape: withOnes, buffer: gy), x.shape)
            if op == .mean { g = try raw(.mul, g, try scalar(1 / Float(count))) }
            return [g.buffer]
        }
    }

    public func sum(_ x: Tensor, axes: [Int]) throws -> Tensor { try reduce(.sum, x, axes: axes) }
    public func mean(_ x: Tensor, axes: [Int]) throws -> Tensor { try reduce(.mean, x, axes: axes) }
    /// The mean of every element, as a one-element tensor.
    public func mean(_ x: Tensor) throws -> Tensor { try reduce(.mean, x, axes: Array(x.shape.indices)) }
}

extension Graph {
    /// `log Σ_axis exp(x)`, the axis dropped: `m + log Σ exp(x − m)` with m the maximum along
    /// the axis, held constant (the gradient, softmax(x), does not depend on it).
    public func logSumExp(_ x: Tensor, axis: Int) throws -> Tensor {
        let kept = x.shape.indices.map { $0 == axis ? 1 : x.shape[$0] }
        let peak = try buffer(count: Broadcast.count(kept))
        try backend.reduce(.max, x.buffer, shape: x.shape, axes: [axis], output: peak)
        let m = Tensor(shape: kept, buffer: peak)
        let summed = try sum(try exp(try sub(x, m)), axes: [axis])
        return try add(try log(summed), try reshape(m, summed.shape))
    }
}
