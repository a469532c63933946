// Fused Adam step; step_size = lr / (1 - beta1^t) and second_scale = 1 / (1 - beta2^t) come
// from the host (RDCompute AdamParameters.corrections), the same numbers the CPU uses.
__kernel void adam_step(__global float* param, __global const float* grad, __global float* m1, __global float* m2,
                        float step_size, float beta1, float beta2, float epsilon, float weight_decay,
                        float second_scale, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weight_decay * param[i];
    float m = beta1 * m1[i] + (1.0f - beta1) * g;
    float v = beta2 * m2[i] + (1.0f - beta2) * g * g;
    m1[i] = m;
    m2[i] = v;
    param[i] -= step_size * m / (sqrt(v * second_scale) + epsilon);
}
