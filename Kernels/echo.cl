// Echo noise (seed-spec §2.4). F, S = exp(log s) (computed once by the launcher), E, Z are [B, D] row-major; `table` is the packed index
// table of EchoIndexTable.words: P [B, d], then the inverse lists as CSR, start [B + 1] and
// entries [B·d] (positions i·d + l, increasing). Items are (j, i): latent j of example i, so a
// work-group reads consecutive j of one row F[P[i,l], :] (coalesced) and P[i, l] is uniform.

// E[i,j] = Σ_l (Π_{m<l} s[P[i,m],j]) F[P[i,l],j] by Horner from the last term; Z = F + s⊙E.
__kernel void echo_forward(__global const float* f, __global const float* s, __global const int* table,
                           __global float* noise, __global float* z, int B, int D, int d) {
    int j = get_global_id(0), i = get_global_id(1);
    if (j >= D || i >= B) return;
    __global const int* row = table + i * d;
    float acc = 0.0f;
    for (int l = d - 1; l >= 0; --l) {
        int k = row[l] * D + j;
        acc = f[k] + s[k] * acc;
    }
    noise[i * D + j] = acc;
    z[i * D + j] = f[i * D + j] + s[i * D + j] * acc;
}

// Per (i, j) with G = ∂L/∂Z[i,j]·s[i,j]: the contribution of position l of row i to member
// P[i,l]'s gradients, cF[(i·d + l)·D + j] = G·p_l and cLS[...] = G·p_{l+1}·H_{l+1}, where p is
// the running product and H_l the Horner value from term l (H_d = 0). H is staged in cLS.
// Products below 1e-30 are flushed to zero, exactly as the CPU backend does.
__kernel void echo_backward_rows(__global const float* f, __global const float* s, __global const int* table,
                                 __global const float* grad_z, __global float* cf, __global float* cls,
                                 int B, int D, int d) {
    int j = get_global_id(0), i = get_global_id(1);
    if (j >= D || i >= B) return;
    __global const int* row = table + i * d;
    float h = 0.0f;
    for (int l = d - 1; l >= 0; --l) {
        int k = row[l] * D + j;
        h = f[k] + s[k] * h;
        cls[(i * d + l) * D + j] = h;
    }
    float g = grad_z[i * D + j] * s[i * D + j];
    float p = 1.0f;
    for (int l = 0; l < d; ++l) {
        int at = (i * d + l) * D + j;
        cf[at] = g * p;
        p *= s[row[l] * D + j];
        if (p < 1e-30f) p = 0.0f;  // as on the CPU: vanishing terms, and no slow denormals
        float next = l + 1 < d ? cls[at + D] : 0.0f;
        cls[at] = g * p * next;
    }
}

// Per (k, j): the direct terms of Z = F + exp(LS)⊙E plus member k's contributions, gathered
// in the fixed CSR order (no atomics: deterministic, and valid on OpenCL 1.2).
__kernel void echo_backward_gather(__global const float* s, __global const float* noise,
                                   __global const float* grad_z, __global const int* table,
                                   __global const float* cf, __global const float* cls,
                                   __global float* grad_f, __global float* grad_ls, int B, int D, int d) {
    int j = get_global_id(0), k = get_global_id(1);
    if (j >= D || k >= B) return;
    __global const int* start = table + B * d;
    __global const int* entries = start + B + 1;
    int e = k * D + j;
    float gf = grad_z[e];
    float gl = grad_z[e] * s[e] * noise[e];
    for (int n = start[k]; n < start[k + 1]; ++n) {
        int at = entries[n] * D + j;
        gf += cf[at];
        gl += cls[at];
    }
    grad_f[e] = gf;
    grad_ls[e] = gl;
}
