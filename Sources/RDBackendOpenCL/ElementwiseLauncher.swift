import RDCompute

extension KernelFamily {
    static let elementwise = KernelFamily(name: "elementwise",
        kernels: ["unary_forward", "unary_backward", "binary_broadcast", "bias_add", "bias_relu", "relu_backward_from_output"])
}

extension OpenCLBackend {
    public func biasAdd(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        let channels = try OpValidation.biasAdd(x, bias: bias, output: output)
        try launchElementwise("bias_add", count: x.count,
            [.buffer(x), .buffer(bias), .buffer(output), .int(channels), .int(x.count)])
    }

    public func biasReLU(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        let channels = try OpValidation.biasAdd(x, bias: bias, output: output)
        try launchElementwise("bias_relu", count: x.count,
            [.buffer(x), .buffer(bias), .buffer(output), .int(channels), .int(x.count)])
    }

    /// The ReLU mask, then the bias gradient's reduction: two launches, each one pass.
    public func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws {
        _ = try OpValidation.biasReLUBackward(output: output, gradOutput: gradOutput, gradInput: gradInput,
            gradBias: gradBias)
        try launchElementwise("relu_backward_from_output", count: output.count,
            [.buffer(output), .buffer(gradOutput), .buffer(gradInput), .int(output.count)])
        try biasGradient(gradInput, gradBias: gradBias)
    }

    public func unary(_ op: UnaryOp, _ x: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.sameCount("unary \(op)", x, output)
        try launchElementwise("unary_forward", count: x.count,
            [.int(Int(op.rawValue)), .buffer(x), .buffer(output), .int(x.count)])
    }

    public func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer) throws {
        try OpValidation.sameCount("unaryBackward \(op)", x, gradOutput, gradInput)
        try launchElementwise("unary_backward", count: x.count,
            [.int(Int(op.rawValue)), .buffer(x), .buffer(gradOutput), .buffer(gradInput), .int(x.count)])
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws {
        let outShape = try OpValidation.binary(a, aShape, b, bShape, output: output)
        let shape = outShape.isEmpty ? [1] : outShape
        let sa = Broadcast.strides(of: aShape.isEmpty ? [1] : aShape, in: shape)
        let sb = Broadcast.strides(of: bShape.isEmpty ? [1] : bShape, in: shape)
        let count = Broadcast.count(shape)
        try launchElementwise("binary_broadcast", count: count, [
            .int(Int(op.rawValue)), .int(shape.count), .ints(shape, width: 8), .ints(sa, width: 8), .ints(sb, width: 8),
            .buffer(a), .buffer(b), .buffer(output), .int(count),
        ])
    }
}
