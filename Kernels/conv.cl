// 2-D convolution, NHWC input, HWIO filter, explicit zero padding.
// The geometry travels as one int16: s0 batch, s1 height, s2 width, s3 in channels,
// s4 out channels, s5 kernel height, s6 kernel width, s7 stride y, s8 stride x,
// s9 pad top, sa pad left, sb out height, sc out width.

// Direct kernels, one item per result element: for shapes where a tile would mostly hold
// zeros (few channels, strided or mostly-padding backward-data); see ConvLauncher.swift.

// One item per output element (channel fastest, so filter reads and writes coalesce).
__kernel void conv2d_forward(int16 g, __global const float* in, __global const float* w, __global float* out) {
    const int total = g.s0 * g.sb * g.sc * g.s4;
    const int i = get_global_id(0);
    if (i >= total) return;
    const int co = i % g.s4;
    int t = i / g.s4;
    const int ox = t % g.sc; t /= g.sc;
    const int oy = t % g.sb;
    const int n = t / g.sb;
    float acc = 0.0f;
    for (int ky = 0; ky < g.s5; ++ky) {
        const int iy = oy * g.s7 - g.s9 + ky;
        if (iy < 0 || iy >= g.s1) continue;
        for (int kx = 0; kx < g.s6; ++kx) {
            const int ix = ox * g.s8 - g.sa + kx;
            if (ix < 0 || ix >= g.s2) continue;
            __global const float* ip = in + ((n * g.s1 + iy) * g.s2 + ix) * g.s3;
            __global const float* wp = w + (ky * g.s6 + kx) * g.s3 * g.s4 + co;
            for (int ci = 0; ci < g.s3; ++ci) acc = fma(ip[ci], wp[ci * g.s4], acc);
        }
    }
    out[i] = acc;
}

// One item per input element: gather the output positions whose window covers it.
__kernel void conv2d_backward_data(int16 g, __global const float* gout, __global const float* w,
                                   __global float* gin) {
    const int total = g.s0 * g.s1 * g.s2 * g.s3;
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ci = i % g.s3;
    int t = i / g.s3;
    const int ix = t % g.s2; t /= g.s2;
    const int iy = t % g.s1;
    const int n = t / g.s1;
    float acc = 0.0f;
    for (int ky = 0; ky < g.s5; ++ky) {
        const int ty = iy + g.s9 - ky;
        if (ty < 0 || ty % g.s7 != 0) continue;
        const int oy = ty / g.s7;
        if (oy >= g.sb) continue;
        for (int kx = 0; kx < g.s6; ++kx) {
            const int tx = ix + g.sa - kx;
            if (tx < 0 || tx % g.s8 != 0) continue;
            const int ox = tx / g.s8;
            if (ox >= g.sc) continue;
            __global const float* gp = gout + ((n * g.sb + oy) * g.sc + ox) * g.s4;
            __global const float* wp = w + ((ky * g.s6 + kx) * g.s3 + ci) * g.s4;
            for (int co = 0; co < g.s4; ++co) acc = fma(gp[co], wp[co], acc);
        }
    }
    gin[i] = acc;
}

// One item per filter element (output channel fastest, so gradient reads coalesce),
// summing over batch x output positions in a fixed order.
__kernel void conv2d_backward_filter(int16 g, __global const float* in, __global const float* gout,
                                     __global float* gw) {
    const int total = g.s5 * g.s6 * g.s3 * g.s4;
    const int f = get_global_id(0);
    if (f >= total) return;
    const int co = f % g.s4;
    int t = f / g.s4;
    const int ci = t % g.s3; t /= g.s3;
    const int kx = t % g.s6;
    const int ky = t / g.s6;
    float acc = 0.0f;
    for (int n = 0; n < g.s0; ++n) {
        for (int oy = 0; oy < g.sb; ++oy) {
            const int iy = oy * g.s7 - g.s9 + ky;
            if (iy < 0 || iy >= g.s1) continue;
            __global const float* grow = gout + ((n * g.sb + oy) * g.sc) * g.s4 + co;
            __global const float* irow = in + ((n * g.s1 + iy) * g.s2) * g.s3 + ci;
            for (int ox = 0; ox < g.sc; ++ox) {
                const int ix = ox * g.s8 - g.sa + kx;
                if (ix >= 0 && ix < g.s2) acc = fma(irow[ix * g.s3], grow[ox * g.s4], acc);
            }
        }
    }
    gw[f] = acc;
}

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

__kernel __attribute__((reqd_work_group_size(TS, RTS, 1)))
void conv2d_gemm(int16 g, int pass, int taps, int masked, __global const int* table, __global const float* a,
                 __global const float* b, __global float* c) {
    const int pixels = g.s0 * g.sb * g.sc;
    const int M = pass == 0 ? pixels : pass == 1 ? g.s0 * g.s1 * g.s2 : taps * g.s3;
    const int N = pass == 1 ? g.s3 : g.s4;
    const int K = pass == 0 ? taps * g.s3 : pass == 1 ? taps * g.s4 : pixels;
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col = get_group_id(0) * TS + tx;
    const int row0 = get_group_id(1) * TS;
    __local float As[TS][TS + 1];
    __local float Bs[TS][TS + 1];
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
