// Reductions over any set of axes: one work-group per output element, work items stride
// over the reduced sub-array, then a tree in local memory (WG = local size, a power of two).
// Op codes match RDCompute's ReduceOp: 0 sum, 1 mean, 2 max.

__kernel void reduce_axes(int op, int kept_rank, int8 kept_shape, int8 kept_stride,
                          int reduced_rank, int8 reduced_shape, int8 reduced_stride, int reduce_count,
                          __global const float* x, __global float* out, __local float* scratch) {
    int o = get_group_id(0);
    int lid = get_local_id(0);
    int lsize = get_local_size(0);
    int ks[8] = {kept_shape.s0, kept_shape.s1, kept_shape.s2, kept_shape.s3, kept_shape.s4, kept_shape.s5, kept_shape.s6, kept_shape.s7};
    int kt[8] = {kept_stride.s0, kept_stride.s1, kept_stride.s2, kept_stride.s3, kept_stride.s4, kept_stride.s5, kept_stride.s6, kept_stride.s7};
    int rs[8] = {reduced_shape.s0, reduced_shape.s1, reduced_shape.s2, reduced_shape.s3, reduced_shape.s4, reduced_shape.s5, reduced_shape.s6, reduced_shape.s7};
    int rt[8] = {reduced_stride.s0, reduced_stride.s1, reduced_stride.s2, reduced_stride.s3, reduced_stride.s4, reduced_stride.s5, reduced_stride.s6, reduced_stride.s7};
    int base = 0, rest = o;
    for (int a = kept_rank - 1; a >= 0; --a) { base += (rest % ks[a]) * kt[a]; rest /= ks[a]; }
    float acc = op == 2 ? -INFINITY : 0.0f;
    for (int r = lid; r < reduce_count; r += lsize) {
        int offset = base, q = r;
        for (int a = reduced_rank - 1; a >= 0; --a) { offset += (q % rs[a]) * rt[a]; q /= rs[a]; }
        float v = x[offset];
        acc = op == 2 ? fmax(acc, v) : acc + v;
    }
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = lsize / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = op == 2 ? fmax(scratch[lid], scratch[lid + s]) : scratch[lid] + scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[o] = op == 1 ? scratch[0] / (float)reduce_count : scratch[0];
}
