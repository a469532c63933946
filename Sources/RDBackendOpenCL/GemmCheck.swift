import RDCompute

/// The tuner's correctness check: a candidate tile's GEMM against a Double reference on the
/// host (`Reference.gemm`, compared by `nmse`). A wrong tile must never be stored, however fast it is.
enum GemmCheck {
    /// Normalised squared error Σ(c − r)² / Σr² above which a result is wrong. Float
    /// accumulation over k terms of unit-sized products gives about k·ε² ≈ 4·10⁻¹² at k = 1024
    /// (ε = 2⁻²⁴); an indexing or synchronisation bug gives errors of order 1.
    static let tolerance = 1e-8

    /// Shapes that are multiples of no tile, with both transposes and a non-zero β, so that
    /// every edge and branch of the kernel runs (the timed square GEMM exercises neither).
    static let edgeCases = [
        GemmDescriptor(m: 67, n: 45, k: 39, transposeA: true, alpha: 0.5, beta: 0.25),
        GemmDescriptor(m: 33, n: 70, k: 50, transposeB: true),
    ]

    /// `count` values in [−1, 1) from a 64-bit LCG (Knuth's MMIX constants): reproducible inputs.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }
}
