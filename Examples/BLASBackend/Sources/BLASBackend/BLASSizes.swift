import RDCompute

/// Size checks that come before ``OpValidation``: CBLAS takes its sizes and leading dimensions
/// as 32-bit `int` (this OpenBLAS is built without `INTERFACE64`), and ``OpValidation`` and
/// ``Conv2DGeometry`` multiply sizes in `Int`, which traps on overflow. So every size an op
/// receives is checked to lie in 0 … 2³¹ − 1 and every product it forms to fit in `Int`, and the
/// op throws ``ComputeError/invalidArgument(op:reason:)`` instead of trapping.
enum BLASSizes {
    /// The largest size or leading dimension CBLAS accepts.
    static let maxInt = Int(Int32.max)

    /// `value` as a CBLAS `int`; the caller has checked it lies in 0 … 2³¹ − 1.
    static func int32(_ value: Int) -> Int32 { Int32(truncatingIfNeeded: value) }

    /// Throws unless every size lies in 0 … 2³¹ − 1 (negative sizes are left to ``OpValidation``,
    /// which names them).
    static func requireBLASRange(_ sizes: [Int], op: String, in context: @autoclosure () -> String) throws {
        for size in sizes where size > maxInt {
            throw ComputeError.invalidArgument(op: op, reason: "size \(size) above CBLAS's 32-bit int in \(context())")
        }
    }

    /// The product of `factors`, or nil when it overflows `Int` (factors ≥ 0).
    static func product(_ factors: Int...) -> Int? {
        var result = 1
        for f in factors {
            let (p, overflow) = result.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            result = p
        }
        return result
    }

    /// Checks a GEMM's sizes: each ≥ 0 and ≤ 2³¹ − 1 (so `m·k`, `k·n`, `m·n` fit in `Int`), then
    /// the buffers through ``OpValidation/gemm(_:a:b:c:)``.
    static func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.require(d.m >= 0 && d.n >= 0 && d.k >= 0, "gemm", "negative size in \(d)")
        try requireBLASRange([d.m, d.n, d.k], op: "gemm", in: d.description)
        try OpValidation.gemm(d, a: a, b: b, c: c)
    }

    /// Checks a convolution: its geometry (sizes and strides ≥ 1, paddings ≥ 0, every field ≤
    /// 2³¹ − 1, so the padded sizes cannot overflow; then ``Conv2DGeometry/validate(op:)``), that
    /// the tensor sizes and the per-row patch `kernelHeight · kernelWidth · inChannels` fit (the
    /// patch and the channel counts are CBLAS sizes), then the buffers through
    /// ``OpValidation/conv(_:input:filter:output:op:)``.
    static func conv(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer,
        op: String) throws {
        let sizes = [g.batch, g.height, g.width, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth,
            g.strideY, g.strideX]
        let paddings = [g.padTop, g.padBottom, g.padLeft, g.padRight]
        // Not `g.description` until these hold: it divides by the strides and adds the paddings
        // to the sizes, so a zero stride or a field near `Int.max` would trap inside it (and
        // inside `validate`, whose message prints it).
        // (built only for an error)
        func fields() -> String {
            "conv with sizes \(sizes) (batch, height, width, in, out, kernel h, w, stride y, x), padding \(paddings)"
        }
        try OpValidation.require(sizes.allSatisfy { $0 > 0 } && paddings.allSatisfy { $0 >= 0 }, op,
            "non-positive size or negative padding in \(fields())")
        try requireBLASRange(sizes + paddings, op: op, in: fields())
        try g.validate(op: op)
        let pixels = product(g.outHeight, g.outWidth)
        let counts = [product(g.batch, g.height, g.width, g.inChannels), pixels.flatMap { product(g.batch, $0, g.outChannels) },
            product(g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels), pixels.flatMap { product(g.batch, $0) }]
        guard counts.allSatisfy({ $0 != nil }) else {
            throw ComputeError.invalidArgument(op: op, reason: "tensor size overflows in \(g)")
        }
        try requireBLASRange([g.kernelHeight * g.kernelWidth * g.inChannels], op: op, in: g.description)
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: op)
    }
}
