// Elementwise ops: unary functions and derivatives, broadcast binary ops, bias add (and fused with ReLU).
// Op codes match RDCompute's UnaryOp / BinaryOp raw values.

float sigmoid_stable(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    float e = exp(x);
    return e / (1.0f + e);
}

float unary_apply(int op, float x) {
    switch (op) {
        case 0: return fmax(x, 0.0f);                            // relu
        case 1: return sigmoid_stable(x);                        // sigmoid
        case 2: return fmin(x, 0.0f) - log1p(exp(-fabs(x)));    // log-sigmoid
        case 3: return fmax(x, 0.0f) + log1p(exp(-fabs(x)));    // softplus
        case 4: return tanh(x);
        case 5: return exp(x);
        case 6: return log(x);
        case 7: return x * x;                                    // square
        default: return sqrt(x);                                 // sqrt
    }
}

float unary_derivative(int op, float x) {
    switch (op) {
        case 0: return x > 0.0f ? 1.0f : 0.0f;
        case 1: { float s = sigmoid_stable(x); return s * (1.0f - s); }
        case 2: return sigmoid_stable(-x);
        case 3: return sigmoid_stable(x);
        case 4: { float t = tanh(x); return 1.0f - t * t; }
        case 5: return exp(x);
        case 6: return 1.0f / x;
        case 7: return 2.0f * x;
        default: return 0.5f / sqrt(x);
    }
}

__kernel void unary_forward(int op, __global const float* x, __global float* y, int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = unary_apply(op, x[i]);
}

__kernel void unary_backward(int op, __global const float* x, __global const float* gy, __global float* gx, int n) {
    int i = get_global_id(0);
    if (i < n) gx[i] = unary_derivative(op, x[i]) * gy[i];
}

// Output index -> operand offsets through per-axis strides (0 on broadcast axes), rank <= 8.
__kernel void binary_broadcast(int op, int rank, int8 shape, int8 stride_a, int8 stride_b,
                               __global const float* a, __global const float* b, __global float* out, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int dims[8] = {shape.s0, shape.s1, shape.s2, shape.s3, shape.s4, shape.s5, shape.s6, shape.s7};
    int sa[8] = {stride_a.s0, stride_a.s1, stride_a.s2, stride_a.s3, stride_a.s4, stride_a.s5, stride_a.s6, stride_a.s7};
    int sb[8] = {stride_b.s0, stride_b.s1, stride_b.s2, stride_b.s3, stride_b.s4, stride_b.s5, stride_b.s6, stride_b.s7};
    int rest = i, oa = 0, ob = 0;
    for (int axis = rank - 1; axis >= 0; --axis) {
        int c = rest % dims[axis];
        rest /= dims[axis];
        oa += c * sa[axis];
        ob += c * sb[axis];
    }
    float x = a[oa], y = b[ob], r;
    switch (op) {
        case 0: r = x + y; break;
        case 1: r = x - y; break;
        case 2: r = x * y; break;
        case 3: r = x / y; break;
        default: r = fmax(x, y); break;
    }
    out[i] = r;
}

__kernel void bias_add(__global const float* x, __global const float* bias, __global float* y, int channels, int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = x[i] + bias[i % channels];
}

__kernel void bias_relu(__global const float* x, __global const float* bias, __global float* y, int channels, int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = fmax(x[i] + bias[i % channels], 0.0f);
}

// ReLU's backward pass from its output: y > 0 exactly where the input was.
__kernel void relu_backward_from_output(__global const float* y, __global const float* gy, __global float* gx, int n) {
    int i = get_global_id(0);
    if (i < n) gx[i] = y[i] > 0.0f ? gy[i] : 0.0f;
}
