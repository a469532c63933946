import RDCompute

extension KernelFamily {
    static let reduce = KernelFamily(name: "reduce", kernels: ["reduce_axes"])
}

extension OpenCLBackend {
    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        let outShape = try OpValidation.reduce(x, shape: shape, axes: axes, output: output)
        try reduceAxes(op, x, shape: shape, axes: axes, outputCount: Broadcast.count(outShape), output: output)
    }

    public func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws {
        let channels = try OpValidation.biasGradient(gradOutput, gradBias: gradBias)
        try reduceAxes(.sum, gradOutput, shape: [gradOutput.count / channels, channels], axes: [0],
            outputCount: channels, output: gradBias)
    }

    /// One work-group per output element (see `Kernels/reduce.cl`).
    func reduceAxes(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], outputCount: Int,
        output: DeviceBuffer) throws {
        let reduced = Set(axes)
        let strides = Broadcast.strides(of: shape, in: shape)
        let kept = shape.indices.filter { !reduced.contains($0) }
        let gone = shape.indices.filter { reduced.contains($0) }
        let reduceCount = gone.reduce(1) { $0 * shape[$1] }
        guard outputCount > 0 else { return }
        let local = groupSize("reduce_axes")
        try launch("reduce_axes", global: [outputCount * local], local: [local], [
            .int(Int(op.rawValue)),
            .int(kept.count), .ints(kept.map { shape[$0] }, width: 8), .ints(kept.map { strides[$0] }, width: 8),
            .int(gone.count), .ints(gone.map { shape[$0] }, width: 8), .ints(gone.map { strides[$0] }, width: 8),
            .int(reduceCount), .buffer(x), .buffer(output), .local(local * 4),
        ])
    }
}
