// 2-D convolution, NHWC input, HWIO filter, explicit zero padding.
// The geometry travels as one int16: s0 batch, s1 height, s2 width, s3 in channels,
// s4 out channels, s5 kernel height, s6 kernel width, s7 stride y, s8 stride x,
// s9 pad top, sa pad left, sb out height, sc out width.

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
