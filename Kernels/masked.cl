// Masked dense (MADE) layers, seed-spec §3.1. x [B, IN], w [IN, OUT], y [B, OUT]. Degrees are
// nondecreasing, so output o sees the inputs i < prefix[o] and input i is seen by the outputs
// o >= first[i]: each loop runs over the unmasked range only (masked blocks are skipped, not
// multiplied by zero). `table` holds prefix [OUT] then first [IN].

// y[b, o] = bias[o] + Σ_{i < prefix[o]} x[b, i]·w[i, o]; items (o, b).
__kernel void masked_dense_forward(__global const float* x, __global const float* w, __global const float* bias,
                                   __global const int* table, __global float* y, int B, int IN, int OUT) {
    int o = get_global_id(0), b = get_global_id(1);
    if (o >= OUT || b >= B) return;
    int n = table[o];
    float acc = 0.0f;
    for (int i = 0; i < n; ++i) acc += x[b * IN + i] * w[i * OUT + o];
    y[b * OUT + o] = bias[o] + acc;
}

// dx[b, i] = Σ_{o >= first[i]} gy[b, o]·w[i, o]; items (i, b).
__kernel void masked_dense_backward_input(__global const float* w, __global const float* gy, __global const int* table,
                                          __global float* dx, int B, int IN, int OUT) {
    int i = get_global_id(0), b = get_global_id(1);
    if (i >= IN || b >= B) return;
    float acc = 0.0f;
    for (int o = table[OUT + i]; o < OUT; ++o) acc += gy[b * OUT + o] * w[i * OUT + o];
    dx[b * IN + i] = acc;
}

// dw[i, o] = Σ_b x[b, i]·gy[b, o] where o sees i, else 0; items (o, i).
__kernel void masked_dense_backward_weight(__global const float* x, __global const float* gy, __global const int* table,
                                           __global float* dw, int B, int IN, int OUT) {
    int o = get_global_id(0), i = get_global_id(1);
    if (o >= OUT || i >= IN) return;
    float acc = 0.0f;
    if (i < table[o]) {
        for (int b = 0; b < B; ++b) acc += x[b * IN + i] * gy[b * OUT + o];
    }
    dw[i * OUT + o] = acc;
}

// Masked convolutions (PixelCNN, seed-spec §4): the geometry int16 of conv.cl (s0 batch, s1 height,
// s2 width, s3 in channels, s4 out channels, s5 kernel height, s6 kernel width, s7/s8 strides,
// s9 pad top, sa pad left, sb/sc out height/width) and `taps`, a bit set of the active taps
// (bit ky·kw + kx). The filter holds the active taps only, [T, IN, OUT] in raster order: the
// loops visit active taps and never touch masked-out ones. These one-item-per-result kernels
// serve the shapes conv.cl's tiled conv2d_gemm does not (few channels, strided backward-data),
// for masked convs and, with every tap active, for dense ones.

// One item per output element.
__kernel void masked_conv2d_forward(int16 g, ulong taps, __global const float* in, __global const float* w,
                                    __global float* out) {
    const int total = g.s0 * g.sb * g.sc * g.s4;
    const int i = get_global_id(0);
    if (i >= total) return;
    const int co = i % g.s4;
    int r = i / g.s4;
    const int ox = r % g.sc; r /= g.sc;
    const int oy = r % g.sb;
    const int n = r / g.sb;
    float acc = 0.0f;
    int t = 0;
    for (int tap = 0; tap < g.s5 * g.s6; ++tap) {
        if (!((taps >> tap) & 1UL)) continue;
        const int iy = oy * g.s7 - g.s9 + tap / g.s6, ix = ox * g.s8 - g.sa + tap % g.s6;
        if (iy >= 0 && iy < g.s1 && ix >= 0 && ix < g.s2) {
            __global const float* ip = in + ((n * g.s1 + iy) * g.s2 + ix) * g.s3;
            __global const float* wp = w + t * g.s3 * g.s4 + co;
            for (int ci = 0; ci < g.s3; ++ci) acc = fma(ip[ci], wp[ci * g.s4], acc);
        }
        ++t;
    }
    out[i] = acc;
}

// One item per input element: the output positions whose active taps cover it.
__kernel void masked_conv2d_backward_data(int16 g, ulong taps, __global const float* gout, __global const float* w,
                                          __global float* gin) {
    const int total = g.s0 * g.s1 * g.s2 * g.s3;
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ci = i % g.s3;
    int r = i / g.s3;
    const int ix = r % g.s2; r /= g.s2;
    const int iy = r % g.s1;
    const int n = r / g.s1;
    float acc = 0.0f;
    int t = 0;
    for (int tap = 0; tap < g.s5 * g.s6; ++tap) {
        if (!((taps >> tap) & 1UL)) continue;
        const int ty = iy + g.s9 - tap / g.s6, tx = ix + g.sa - tap % g.s6;
        if (ty >= 0 && tx >= 0 && ty % g.s7 == 0 && tx % g.s8 == 0 && ty / g.s7 < g.sb && tx / g.s8 < g.sc) {
            __global const float* gp = gout + ((n * g.sb + ty / g.s7) * g.sc + tx / g.s8) * g.s4;
            __global const float* wp = w + (t * g.s3 + ci) * g.s4;
            for (int co = 0; co < g.s4; ++co) acc = fma(gp[co], wp[co], acc);
        }
        ++t;
    }
    gin[i] = acc;
}

// One item per filter element (t, ci, co), summing over batch × output positions in a fixed order.
__kernel void masked_conv2d_backward_filter(int16 g, ulong taps, __global const float* in, __global const float* gout,
                                            __global float* gw) {
    const int count = popcount(taps);
    const int f = get_global_id(0);
    if (f >= count * g.s3 * g.s4) return;
    const int co = f % g.s4;
    const int ci = (f / g.s4) % g.s3;
    const int t = f / (g.s4 * g.s3);
    int tap = 0;
    for (int seen = -1; tap < 64; ++tap) {
        if ((taps >> tap) & 1UL) ++seen;
        if (seen == t) break;
    }
    const int ky = tap / g.s6, kx = tap % g.s6;
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
