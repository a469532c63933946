import RDCompute

/// Size checks for CBLAS: it takes sizes and leading dimensions as 32-bit `int` (this OpenBLAS
/// is built without `INTERFACE64`). ``OpValidation`` first checks the shapes and buffers (and
/// refuses zero strides and sizes that overflow `Int`); then every size an op hands to
/// `cblas_sgemm` is checked to lie in 0 … 2³¹ − 1, so the op throws
/// ``ComputeError/invalidArgument(op:reason:)`` instead of passing a truncated size.
enum BLASSizes {
    /// The largest size or leading dimension CBLAS accepts.
    static let maxInt = Int(Int32.max)

    /// `value` as a CBLAS `int`; the caller has checked it lies in 0 … 2³¹ − 1.
    static func int32(_ value: Int) -> Int32 { Int32(truncatingIfNeeded: value) }

    /// Throws unless every size is at most 2³¹ − 1.
    static func requireBLASRange(_ sizes: [Int], op: String, in context: @autoclosure () -> String) throws {
        for size in sizes where size > maxInt {
            throw ComputeError.invalidArgument(op: op, reason: "size \(size) above CBLAS's 32-bit int in \(context())")
        }
    }

    /// A GEMM: the buffers through ``OpValidation/gemm(_:a:b:c:)``, then `m`, `n`, `k` in CBLAS's range.
    static func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(d, a: a, b: b, c: c)
        try requireBLASRange([d.m, d.n, d.k], op: "gemm", in: d.description)
    }

    /// A convolution: geometry and buffers through ``OpValidation/conv(_:input:filter:output:op:)``,
    /// then the CBLAS sizes of its GEMMs — the patch `kernelHeight · kernelWidth · inChannels` and
    /// the channel counts (the rows are cut into chunks of at most ``maxInt``).
    static func conv(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer,
        op: String) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: op)
        try requireBLASRange([g.kernelHeight * g.kernelWidth * g.inChannels, g.inChannels, g.outChannels], op: op,
            in: g.description)
    }
}
