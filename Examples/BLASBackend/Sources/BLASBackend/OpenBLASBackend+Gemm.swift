import COpenBLAS
import RDCompute

extension OpenBLASBackend {
    /// `C = α · op(A) · op(B) + β · C` by `cblas_sgemm` (row-major; see ``GemmDescriptor``).
    ///
    /// With `op(A)` of m × k and `op(B)` of k × n, the leading dimensions (the row lengths as
    /// stored) are `lda = transposeA ? m : k`, `ldb = transposeB ? k : n`, `ldc = n`. BLAS wants
    /// each ≥ 1, so an empty C (m = 0 or n = 0) returns before the call, and k = 0 (an empty sum)
    /// leaves `C = β · C` (0 when β = 0, which never reads C, as in BLAS).
    func gemm(_ d: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try BLASSizes.gemm(d, a: a, b: b, c: c)
        let (pa, pb, pc) = (try pointer(a), try pointer(b), try pointer(c))
        guard d.m > 0, d.n > 0 else { return }
        guard d.k > 0 else {
            if d.beta == 0 {
                pc.update(repeating: 0, count: d.m * d.n)
            } else if d.beta != 1 {
                for i in 0..<(d.m * d.n) { pc[i] *= d.beta }
            }
            return
        }
        Self.sgemm(d, a: pa, b: pb, c: pc)
    }

    /// One `cblas_sgemm` on host pointers: sizes already checked (each in 1 … 2³¹ − 1, the
    /// operands large enough). The leading dimensions are those of dense row-major operands.
    static func sgemm(_ d: GemmDescriptor, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        sgemm(d, a: a, lda: d.transposeA ? d.m : d.k, b: b, ldb: d.transposeB ? d.k : d.n, c: c, ldc: d.n)
    }

    /// `cblas_sgemm` with explicit leading dimensions (each ≥ the row length it describes).
    static func sgemm(_ d: GemmDescriptor, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int) {
        let int = BLASSizes.int32
        cblas_sgemm(CblasRowMajor, d.transposeA ? CblasTrans : CblasNoTrans, d.transposeB ? CblasTrans : CblasNoTrans,
            int(d.m), int(d.n), int(d.k), d.alpha, a, int(max(1, lda)), b, int(max(1, ldb)), d.beta, c, int(max(1, ldc)))
    }
}
