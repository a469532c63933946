// 2-D convolution, NHWC input, HWIO filter, explicit zero padding.
// The geometry travels as one int16: s0 batch, s1 height, s2 width, s3 in channels,
// s4 out channels, s5 kernel height, s6 kernel width, s7 stride y, s8 stride x,
// s9 pad top, sa pad left, sb out height, sc out width.

// Shapes where a tile would mostly hold zeros (few channels, strided or mostly-padding
// backward-data) run masked.cl's direct kernels with every tap active; see ConvLauncher.swift.

// The three passes as implicit GEMMs tiled through local memory, with gemm.cl's TS × TS tile
// per work-group of TS × (TS / WPT) items (TS and WPT from -D defines chosen per device class
// by GemmTile.swift). The patch matrix is never materialised: the A-tile loads gather from the
// image (or the output gradient) with the zero padding applied on the fly.
//   pass 0, forward:         C[pixel, co]   = Σ_(ky,kx,ci) patch(pixel; ky,kx,ci) · w[(ky,kx,ci), co]
//   pass 1, backward-data:   C[in pixel, ci] = Σ_(ky,kx,co) gout(reaching pixel; ky,kx,co) · w[(ky,kx,ci), co]
//   pass 2, backward-filter: C[(ky,kx,ci), co] = Σ_pixel patch(pixel; ky,kx,ci) · gout[pixel, co]
// A masked conv (masked.cl's op) runs the same passes over its `taps` active taps, listed in
// `table`; the filter is then [taps, in, out] and masked-out taps never enter the depth.
#ifndef TS
#define TS 32
#endif
#ifndef WPT
#define WPT 8
#endif
#define RTS (TS / WPT)

// Input value of patch row `pixel` (n, oy, ox) at column (t, ci), t the t-th active tap
// (`table[t]` = ky·kw + kx for a masked conv, t itself for a dense one); 0 in the padding.
inline float patch_value(int16 g, __global const float* in, __global const int* table, int masked, int pixel, int k) {
    const int ci = k % g.s3, tap = masked ? table[k / g.s3] : k / g.s3;
    const int ox = pixel % g.sc, r = pixel / g.sc;
    const int iy = (r % g.sb) * g.s7 - g.s9 + tap / g.s6, ix = ox * g.s8 - g.sa + tap % g.s6;
    if (iy < 0 || iy >= g.s1 || ix < 0 || ix >= g.s2) return 0.0f;
    return in[(((r / g.sb) * g.s1 + iy) * g.s2 + ix) * g.s3 + ci];
}

// Output gradient that input pixel (n, iy, ix) receives through active tap t, channel co; 0 if none.
inline float reaching_value(int16 g, __global const float* gout, __global const int* table, int masked, int pixel, int k) {
    const int co = k % g.s4, tap = masked ? table[k / g.s4] : k / g.s4;
    const int ix = pixel % g.s2, r = pixel / g.s2;
    const int ty = (r % g.s1) + g.s9 - tap / g.s6, tx = ix + g.sa - tap % g.s6;
    if (ty < 0 || tx < 0 || ty % g.s7 != 0 || tx % g.s8 != 0) return 0.0f;
    const int oy = ty / g.s7, ox = tx / g.s8;
    if (oy >= g.sb || ox >= g.sc) return 0.0f;
    return gout[(((r / g.s1) * g.sb + oy) * g.sc + ox) * g.s4 + co];
}

// The tiled pass; `masked` is a constant at each call below, so each kernel compiles without
// the other's tap lookup.
inline void conv_gemm(int16 g, int pass, int taps, const int masked, __global const int* table, __global const float* a,
                      __global const float* b, __global float* c, __local float (*As)[TS + 1], __local float (*Bs)[TS + 1]) {
    const int pixels = g.s0 * g.sb * g.sc;
    const int M = pass == 0 ? pixels : pass == 1 ? g.s0 * g.s1 * g.s2 : taps * g.s3;
    const int N = pass == 1 ? g.s3 : g.s4;
    const int K = pass == 0 ? taps * g.s3 : pass == 1 ? taps * g.s4 : pixels;
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col = get_group_id(0) * TS + tx;
    const int row0 = get_group_id(1) * TS;
    float acc[WPT];
    for (int w = 0; w < WPT; ++w) acc[w] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TS) {
        for (int w = 0; w < WPT; ++w) {
            const int r = ty + w * RTS;
            const int gi = row0 + r, gk = k0 + tx;
            float av = 0.0f;
            if (gi < M && gk < K) {
                if (pass == 0) av = patch_value(g, a, table, masked, gi, gk);
                else if (pass == 1) av = reaching_value(g, a, table, masked, gi, gk);
                else av = patch_value(g, a, table, masked, gk, gi);
            }
            As[r][tx] = av;
            const int bk = k0 + r;
            float bv = 0.0f;
            if (bk < K && col < N) {
                // pass 1 reads w[(tap, ci = col), co] for k = (tap, co)
                bv = pass == 1 ? b[((bk / g.s4) * g.s3 + col) * g.s4 + bk % g.s4] : b[bk * N + col];
            }
            Bs[r][tx] = bv;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TS; ++k) {
            const float bv = Bs[k][tx];
            for (int w = 0; w < WPT; ++w) acc[w] = fma(As[ty + w * RTS][k], bv, acc[w]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (col >= N) return;
    for (int w = 0; w < WPT; ++w) {
        const int row = row0 + ty + w * RTS;
        if (row < M) c[row * N + col] = acc[w];
    }
}

__kernel __attribute__((reqd_work_group_size(TS, RTS, 1)))
void conv2d_gemm(int16 g, int pass, __global const float* a, __global const float* b, __global float* c) {
    __local float As[TS][TS + 1];
    __local float Bs[TS][TS + 1];
    conv_gemm(g, pass, g.s5 * g.s6, 0, 0, a, b, c, As, Bs);
}

// The masked conv's passes over its `taps` active taps, `table[t]` = ky·kw + kx.
__kernel __attribute__((reqd_work_group_size(TS, RTS, 1)))
void masked_conv2d_gemm(int16 g, int pass, int taps, __global const int* table, __global const float* a,
                        __global const float* b, __global float* c) {
    __local float As[TS][TS + 1];
    __local float Bs[TS][TS + 1];
    conv_gemm(g, pass, taps, 1, table, a, b, c, As, Bs);
}
