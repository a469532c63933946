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
