// Philox-4x32-10 fills: uniform [0,1) and standard normal (Box-Muller).
// Mirrors RDCompute/Philox.swift bit for bit: built with
// -cl-fp32-correctly-rounded-divide-sqrt, no contraction, explicit fma(), hex constants.
#pragma OPENCL FP_CONTRACT OFF

uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) { k.x += 0x9E3779B9u; k.y += 0xBB67AE85u; }
        ulong p0 = (ulong)0xD2511F53u * c.x;
        ulong p1 = (ulong)0xCD9E8D57u * c.z;
        c = (uint4)((uint)(p1 >> 32) ^ c.y ^ k.x, (uint)p1, (uint)(p0 >> 32) ^ c.w ^ k.y, (uint)p0);
    }
    return c;
}

uint4 philox_block(ulong block, uint2 stream, uint2 key) {
    return philox4x32_10((uint4)((uint)block, (uint)(block >> 32), stream.x, stream.y), key);
}

float philox_log(float u) {
    uint bits = as_uint(u);
    int e = (int)((bits >> 23) & 0xFFu) - 127;
    float m = as_float((bits & 0x007FFFFFu) | 0x3F800000u);
    if (m > 0x1.6a09e6p+0f) { m = m * 0.5f; e += 1; }
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float p = 0x1.111112p-4f;
    p = fma(p, s2, 0x1.3b13b2p-4f);
    p = fma(p, s2, 0x1.745d18p-4f);
    p = fma(p, s2, 0x1.c71c72p-4f);
    p = fma(p, s2, 0x1.24924ap-3f);
    p = fma(p, s2, 0x1.99999ap-3f);
    p = fma(p, s2, 0x1.555556p-2f);
    p = fma(p, s2, 1.0f);
    float lnm = (s + s) * p;
    return fma((float)e, 0x1.62e430p-1f, lnm);
}

float2 philox_sincos_turn(uint k) {  // (sin, cos) of 2*pi*k/2^24
    uint octant = k >> 21;
    uint f = k & 0x1FFFFFu;
    if (octant & 1u) f = 0x200000u - f;
    float x = (float)f * 0x1.921fb6p-22f;
    float x2 = x * x;
    float sp = -0x1.ae6456p-26f;
    sp = fma(sp, x2, 0x1.71de3ap-19f);
    sp = fma(sp, x2, -0x1.a01a02p-13f);
    sp = fma(sp, x2, 0x1.111112p-7f);
    sp = fma(sp, x2, -0x1.555556p-3f);
    float sn = fma(sp * x2, x, x);
    float cp = 0x1.1eed8ep-29f;
    cp = fma(cp, x2, -0x1.27e4fcp-22f);
    cp = fma(cp, x2, 0x1.a01a02p-16f);
    cp = fma(cp, x2, -0x1.6c16c2p-10f);
    cp = fma(cp, x2, 0x1.555556p-5f);
    cp = fma(cp, x2, -0.5f);
    float cs = fma(cp, x2, 1.0f);
    switch (octant) {
        case 0: return (float2)(sn, cs);
        case 1: return (float2)(cs, sn);
        case 2: return (float2)(cs, -sn);
        case 3: return (float2)(sn, -cs);
        case 4: return (float2)(-sn, -cs);
        case 5: return (float2)(-cs, -sn);
        case 6: return (float2)(-cs, sn);
        default: return (float2)(-sn, cs);
    }
}

float2 philox_normal_pair(uint w0, uint w1) {
    float u = (float)((w0 >> 8) + 1u) * 0x1p-24f;
    float r = sqrt(-2.0f * philox_log(u));
    float2 sc = philox_sincos_turn(w1 >> 8);
    return (float2)(r * sc.y, r * sc.x);
}

// One work item per Philox block touching elements [offset, offset + n).
__kernel void random_uniform(__global float* out, int n, uint2 key, uint2 stream, ulong offset) {
    ulong block = offset / 4 + get_global_id(0);
    ulong first = block * 4;
    if (first >= offset + (ulong)n) return;
    uint4 w = philox_block(block, stream, key);
    float v[4] = {(float)(w.x >> 8) * 0x1p-24f, (float)(w.y >> 8) * 0x1p-24f,
                  (float)(w.z >> 8) * 0x1p-24f, (float)(w.w >> 8) * 0x1p-24f};
    for (int j = 0; j < 4; ++j) {
        ulong e = first + j;
        if (e >= offset && e < offset + (ulong)n) out[e - offset] = v[j];
    }
}

__kernel void random_normal(__global float* out, int n, uint2 key, uint2 stream, ulong offset) {
    ulong block = offset / 4 + get_global_id(0);
    ulong first = block * 4;
    if (first >= offset + (ulong)n) return;
    uint4 w = philox_block(block, stream, key);
    float2 a = philox_normal_pair(w.x, w.y);
    float2 b = philox_normal_pair(w.z, w.w);
    float v[4] = {a.x, a.y, b.x, b.y};
    for (int j = 0; j < 4; ++j) {
        ulong e = first + j;
        if (e >= offset && e < offset + (ulong)n) out[e - offset] = v[j];
    }
}
