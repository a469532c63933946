// Fused per-example losses: Bernoulli NLL with logits, diagonal-Gaussian KL to N(0, I) and
// between two diagonal Gaussians.
// Forward: one work-group per row with a local-memory tree; backward: one item per element.

float softplus_stable(float l) { return fmax(l, 0.0f) + log1p(exp(-fabs(l))); }

float sigmoid_of(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    float e = exp(x);
    return e / (1.0f + e);
}

float row_sum(float acc, __local float* scratch) {
    int lid = get_local_id(0);
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[0];
}

__kernel void bernoulli_nll(__global const float* logits, __global const float* targets, __global float* out,
                            int columns, __local float* scratch) {
    int r = get_group_id(0);
    float acc = 0.0f;
    for (int c = get_local_id(0); c < columns; c += get_local_size(0)) {
        float l = logits[r * columns + c];
        acc += softplus_stable(l) - targets[r * columns + c] * l;
    }
    float total = row_sum(acc, scratch);
    if (get_local_id(0) == 0) out[r] = total;
}

__kernel void bernoulli_nll_backward(__global const float* logits, __global const float* targets,
                                     __global const float* grad_out, __global float* grad_logits, int columns, int n) {
    int i = get_global_id(0);
    if (i < n) grad_logits[i] = (sigmoid_of(logits[i]) - targets[i]) * grad_out[i / columns];
}

__kernel void gaussian_kl(__global const float* mean, __global const float* scale, __global float* out,
                          int columns, __local float* scratch) {
    int r = get_group_id(0);
    float acc = 0.0f;
    for (int c = get_local_id(0); c < columns; c += get_local_size(0)) {
        float mu = mean[r * columns + c], sigma = scale[r * columns + c];
        acc += mu * mu + sigma * sigma - 1.0f - 2.0f * log(sigma);
    }
    float total = row_sum(acc, scratch);
    if (get_local_id(0) == 0) out[r] = 0.5f * total;
}

__kernel void gaussian_kl_backward(__global const float* mean, __global const float* scale,
                                   __global const float* grad_out, __global float* grad_mean,
                                   __global float* grad_scale, int columns, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad_out[i / columns];
    grad_mean[i] = mean[i] * g;
    grad_scale[i] = (scale[i] - 1.0f / scale[i]) * g;
}

// KL(N(mq, sq^2) || N(mp, sp^2)) per column, in a form that is exactly 0 where q = p:
// ((sq - sp)(sq + sp) + (mq - mp)^2) / (2 sp^2) - ln(1 + (sq - sp)/sp).
__kernel void gaussian_kl_pair(__global const float* mean_q, __global const float* scale_q,
                               __global const float* mean_p, __global const float* scale_p, __global float* out,
                               int columns, __local float* scratch) {
    int r = get_group_id(0);
    float acc = 0.0f;
    for (int c = get_local_id(0); c < columns; c += get_local_size(0)) {
        int i = r * columns + c;
        float sq = scale_q[i], sp = scale_p[i], d = mean_q[i] - mean_p[i];
        float excess = (sq - sp) * (sq + sp) + d * d;
        acc += 0.5f * excess / (sp * sp) - log1p((sq - sp) / sp);
    }
    float total = row_sum(acc, scratch);
    if (get_local_id(0) == 0) out[r] = total;
}

// d mq = g (mq - mp)/sp^2, d mp = -d mq, d sq = g (sq - sp)(sq + sp)/(sq sp^2),
// d sp = -g ((sq - sp)(sq + sp) + (mq - mp)^2)/sp^3.
__kernel void gaussian_kl_pair_backward(__global const float* mean_q, __global const float* scale_q,
                                        __global const float* mean_p, __global const float* scale_p,
                                        __global const float* grad_out, __global float* grad_mean_q,
                                        __global float* grad_scale_q, __global float* grad_mean_p,
                                        __global float* grad_scale_p, int columns, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad_out[i / columns];
    float sq = scale_q[i], sp = scale_p[i], d = mean_q[i] - mean_p[i];
    float variance = sp * sp;
    float spread = (sq - sp) * (sq + sp);
    float d_mean = g * d / variance;
    grad_mean_q[i] = d_mean;
    grad_mean_p[i] = -d_mean;
    grad_scale_q[i] = g * spread / (sq * variance);
    grad_scale_p[i] = -g * (spread + d * d) / (variance * sp);
}
