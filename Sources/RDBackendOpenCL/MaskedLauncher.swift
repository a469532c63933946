import RDCompute

extension KernelFamily {
    static let masked = KernelFamily(name: "masked",
        kernels: ["masked_dense_forward", "masked_dense_backward_input", "masked_dense_backward_weight",
            "masked_conv2d_forward", "masked_conv2d_backward_data", "masked_conv2d_backward_filter"])
}

extension OpenCLBackend {
    /// The prefix and first-output tables of a shape, as the kernels read them.
    func maskTable(_ s: MaskedDenseShape) throws -> DeviceBuffer { try makeIndexBuffer(s.prefixes + s.firstOutputs) }

    /// A 2-D launch over `columns × rows` items in groups of up to 64 consecutive columns.
    func launchMasked(_ name: String, columns: Int, rows: Int, _ arguments: [Argument]) throws {
        let local = min(groupSize(name, cap: 64), 64)
        try launch(name, global: [(columns + local - 1) / local * local, rows], local: [local, 1], arguments)
    }

    public func maskedDenseForward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedDenseForward(shape, x: x, weight: weight, bias: bias, output: output)
        try launchMasked("masked_dense_forward", columns: shape.outputs, rows: shape.batch, [.buffer(x), .buffer(weight),
            .buffer(bias), .buffer(try maskTable(shape)), .buffer(output), .int(shape.batch), .int(shape.inputs),
            .int(shape.outputs)])
    }

    public func maskedDenseBackward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try OpValidation.maskedDenseBackward(shape, x: x, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        let table = try maskTable(shape)
        let sizes: [Argument] = [.int(shape.batch), .int(shape.inputs), .int(shape.outputs)]
        try launchMasked("masked_dense_backward_input", columns: shape.inputs, rows: shape.batch,
            [.buffer(weight), .buffer(gradOutput), .buffer(table), .buffer(gradInput)] + sizes)
        try launchMasked("masked_dense_backward_weight", columns: shape.outputs, rows: shape.inputs,
            [.buffer(x), .buffer(gradOutput), .buffer(table), .buffer(gradWeight)] + sizes)
        try biasGradient(gradOutput, gradBias: gradBias)
    }

    public func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: filter, output: output, op: "maskedConv2dForward")
        try convPass(.forward, shape.geometry, mask: shape, a: input, b: filter, c: output)
    }

    public func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: gradInput, filter: filter, output: gradOutput, op: "maskedConv2dBackwardData")
        try convPass(.backwardData, shape.geometry, mask: shape, a: gradOutput, b: filter, c: gradInput)
    }

    public func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: gradFilter, output: gradOutput, op: "maskedConv2dBackwardFilter")
        try convPass(.backwardFilter, shape.geometry, mask: shape, a: input, b: gradOutput, c: gradFilter)
    }
}
