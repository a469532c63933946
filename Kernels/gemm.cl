// C = alpha * op(A) * op(B) + beta * C, row-major, tiled through local memory.
// A work-group of TS x (TS / WPT) items computes a TS x TS tile of C; each item keeps WPT
// results in registers. TS and WPT come from -D defines chosen per device class by the
// launcher (GemmLauncher.swift), within the device's work-group and local-memory limits.
#ifndef TS
#define TS 32
#endif
#ifndef WPT
#define WPT 8
#endif
#define RTS (TS / WPT)

__kernel __attribute__((reqd_work_group_size(TS, RTS, 1)))
void gemm(int M, int N, int K, int trans_a, int trans_b, float alpha, float beta,
          __global const float* A, __global const float* B, __global float* C) {
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int col = get_group_id(0) * TS + tx;
    const int row0 = get_group_id(1) * TS;
    __local float As[TS][TS + 1];  // As[row][k]
    __local float Bs[TS][TS + 1];  // Bs[k][col]
    float acc[WPT];
    for (int w = 0; w < WPT; ++w) acc[w] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TS) {
        for (int w = 0; w < WPT; ++w) {
            const int r = ty + w * RTS;
            const int gi = row0 + r, gk = k0 + tx;
            As[r][tx] = (gi < M && gk < K) ? (trans_a ? A[gk * M + gi] : A[gi * K + gk]) : 0.0f;
            const int bk = k0 + r;
            Bs[r][tx] = (bk < K && col < N) ? (trans_b ? B[col * K + bk] : B[bk * N + col]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TS; ++k) {
            const float b = Bs[k][tx];
            for (int w = 0; w < WPT; ++w) acc[w] = fma(As[ty + w * RTS][k], b, acc[w]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (col >= N) return;
    for (int w = 0; w < WPT; ++w) {
        const int row = row0 + ty + w * RTS;
        if (row < M) {
            const int i = row * N + col;
            C[i] = beta == 0.0f ? alpha * acc[w] : alpha * acc[w] + beta * C[i];
        }
    }
}
