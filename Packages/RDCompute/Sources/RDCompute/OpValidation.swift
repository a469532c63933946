/// Size checks shared by every backend, so each op fails the same way everywhere.
/// Each returns the derived sizes the kernels need.
public enum OpValidation {
    public static func require(_ condition: Bool, _ op: String, _ reason: @autoclosure () -> String) throws {
        if !condition { throw ComputeError.invalidArgument(op: op, reason: reason()) }
    }

    /// `a + b + c`, or nil when it overflows.
    static func sum(_ a: Int, _ b: Int, _ c: Int) -> Int? {
        let (ab, o1) = a.addingReportingOverflow(b)
        let (abc, o2) = ab.addingReportingOverflow(c)
        return o1 || o2 ? nil : abc
    }

    /// The product of `factors`, or nil when it overflows.
    static func product(_ factors: Int...) -> Int? {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = next
        }
        return result
    }

    static func count(_ buffer: DeviceBuffer, _ expected: Int, _ name: String, _ op: String) throws {
        try require(buffer.count >= expected, op, "\(name) holds \(buffer.count) elements, needs \(expected)")
    }

    public static func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try require(d.m >= 0 && d.n >= 0 && d.k >= 0, "gemm", "negative size in \(d)")
        guard let aCount = product(d.m, d.k), let bCount = product(d.k, d.n),
            let cCount = product(d.m, d.n)
        else { throw ComputeError.invalidArgument(op: "gemm", reason: "sizes overflow Int in \(d)") }
        try count(a, aCount, "A", "gemm")
        try count(b, bCount, "B", "gemm")
        try count(c, cCount, "C", "gemm")
    }

    public static func conv(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer,
        op: String) throws {
        try g.validate(op: op)
        try count(input, g.inputCount, "input", op)
        try count(filter, g.filterCount, "filter", op)
        try count(output, g.outputCount, "output", op)
    }

    /// Validates a fused pass as its pass, the epilogue's operand (a bias of the output's
    /// channels, or an activation of the output's size), and an output that is none of them.
    public static func convFused(_ g: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer, filter: DeviceBuffer,
        epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        switch pass {
        case .forward: try conv(g, input: input, filter: filter, output: output, op: "conv2dFused")
        case .backwardData: try conv(g, input: output, filter: filter, output: input, op: "conv2dFused")
        }
        switch epilogue {
        case .biasReLU(let bias): try count(bias, pass.outputChannels(g), "bias", "conv2dFused")
        case .reluGate(let activation):
            try count(activation, pass.counts(g).output, "activation", "conv2dFused")
        }
        try require(output !== input && output !== filter && output !== epilogue.operand, "conv2dFused",
            "the output is also an operand it reads (parts of it are finished while others are read)")
    }

    /// Returns the channel count.
    public static func biasAdd(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws -> Int {
        try require(bias.count > 0 && x.count % bias.count == 0, "biasAdd",
            "x has \(x.count) elements, not a multiple of the \(bias.count) channels")
        try count(output, x.count, "output", "biasAdd")
        return bias.count
    }

    public static func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws -> Int {
        try require(gradBias.count > 0 && gradOutput.count % gradBias.count == 0, "biasGradient",
            "gradOutput has \(gradOutput.count) elements, not a multiple of \(gradBias.count) channels")
        return gradBias.count
    }

    /// Returns the channel count.
    public static func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws -> Int {
        try sameCount("biasReLUBackward", output, gradOutput, gradInput)
        try require(gradBias.count > 0 && output.count % gradBias.count == 0, "biasReLUBackward",
            "output has \(output.count) elements, not a multiple of \(gradBias.count) channels")
        return gradBias.count
    }

    /// Throws unless `a`, `b` and (when given) `c` hold the same number of elements. `op` is
    /// built only for the error (no string or array per call in a training step).
    public static func sameCount(_ op: @autoclosure () -> String, _ a: DeviceBuffer, _ b: DeviceBuffer,
        _ c: DeviceBuffer? = nil) throws {
        let other = b.count != a.count ? b.count : c?.count ?? a.count
        guard other == a.count else {
            throw ComputeError.invalidArgument(op: op(), reason: "buffers hold \(a.count) and \(other) elements")
        }
    }

    /// Throws unless host memory of `count` elements matches `buffer` (a download into it).
    public static func hostCount(_ op: String, _ buffer: DeviceBuffer, _ count: Int) throws {
        guard count == buffer.count else {
            throw ComputeError.invalidArgument(op: op, reason: "\(count) host values for a buffer of \(buffer.count)")
        }
    }

    /// Returns the output shape.
    public static func binary(_ a: DeviceBuffer, _ aShape: [Int], _ b: DeviceBuffer, _ bShape: [Int],
        output: DeviceBuffer) throws -> [Int] {
        let rank = max(aShape.count, bShape.count)
        return try [Int](unsafeUninitializedCapacity: max(rank, 1)) { buffer, initialized in
            try binary(a, aShape, b, bShape, output: output, outShape: buffer.baseAddress!)
            initialized = rank
        }
    }

    /// The checks of ``binary(_:_:_:_:output:)`` with the output shape written to `outShape`
    /// (room for the larger rank), for a backend that keeps it off the heap.
    public static func binary(_ a: DeviceBuffer, _ aShape: [Int], _ b: DeviceBuffer, _ bShape: [Int],
        output: DeviceBuffer, outShape: UnsafeMutablePointer<Int>) throws {
        try require(aShape.count <= 8 && bShape.count <= 8, "binary", "rank above 8")
        try require(Broadcast.count(aShape) == a.count, "binary", "a holds \(a.count) elements, shape \(aShape)")
        try require(Broadcast.count(bShape) == b.count, "binary", "b holds \(b.count) elements, shape \(bShape)")
        try count(output, try Broadcast.shape(aShape, bShape, into: outShape), "output", "binary")
    }

    /// Returns the reduced shape.
    public static func reduce(_ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws -> [Int] {
        try checkReduce(x, shape: shape, axes: axes, output: output)
        return try Broadcast.reducedShape(shape, axes: axes)
    }

    /// The checks of ``reduce(_:shape:axes:output:)``, for a backend that does not need the
    /// reduced shape (nothing is allocated).
    public static func checkReduce(_ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        try require(shape.count <= 8, "reduce", "rank above 8")
        try require(Broadcast.count(shape) == x.count, "reduce", "x holds \(x.count) elements, shape \(shape)")
        try count(output, try Broadcast.reducedCount(shape, axes: axes), "output", "reduce")
    }

    /// Returns the column count.
    public static func rows(_ op: String, rows: Int, _ matrix: DeviceBuffer, _ others: DeviceBuffer...) throws -> Int {
        try require(rows > 0 && matrix.count % rows == 0, op, "\(matrix.count) elements do not split into \(rows) rows")
        for o in others { try require(o.count == matrix.count, op, "operands hold \(matrix.count) and \(o.count) elements") }
        return matrix.count / rows
    }

    /// Sizes of an AR(1)-prior KL: `mean` and `others` hold `[rows, steps, dimensions]` with
    /// dimensions = `alpha.count`. Returns (steps, dimensions).
    public static func ar1KL(_ op: String, rows: Int, alpha: DeviceBuffer, _ mean: DeviceBuffer, _ others: DeviceBuffer...)
        throws -> (steps: Int, dimensions: Int) {
        let dimensions = alpha.count
        let block = product(rows, dimensions) ?? 0
        try require(rows > 0 && dimensions > 0 && block > 0 && mean.count > 0 && mean.count % block == 0, op,
            "\(mean.count) elements do not split into \(rows) rows of steps × \(dimensions) dimensions (one α each)")
        for o in others { try require(o.count == mean.count, op, "operands hold \(mean.count) and \(o.count) elements") }
        return (mean.count / block, dimensions)
    }

    public static func randomOffset(_ offset: UInt64) throws {
        try require(offset % 2 == 0, "randomNormal", "offset \(offset) must be even (values come in Box–Muller pairs)")
    }

    public static func adam(step: Int, _ buffers: DeviceBuffer...) throws {
        try require(step >= 1, "adam", "step \(step) must be ≥ 1")
        let n = buffers[0].count
        for b in buffers { try require(b.count == n, "adam", "parameter, gradient and moments differ in size") }
    }
}
