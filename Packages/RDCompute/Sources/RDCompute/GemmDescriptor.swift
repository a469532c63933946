/// `C = alpha · op(A) · op(B) + beta · C` on dense row-major matrices.
///
/// `op(A)` is `m × k` and `op(B)` is `k × n`. With `transposeA` the buffer holds A as
/// `k × m` (row-major) and is read transposed; likewise `transposeB` (`n × k` in memory).
/// `beta == 0` overwrites C without reading it (NaNs in C do not propagate), as in BLAS.
public struct GemmDescriptor: Sendable, Equatable, CustomStringConvertible {
    public var m: Int
    public var n: Int
    public var k: Int
    public var transposeA: Bool
    public var transposeB: Bool
    public var alpha: Float
    public var beta: Float

    public init(
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0
    ) {
        self.m = m
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.alpha = alpha
        self.beta = beta
    }

    /// Multiply-adds times two.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    public var description: String {
        "gemm \(m)x\(n)x\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "") α=\(alpha) β=\(beta)"
    }
}
