import RDCompute

extension KernelFamily {
    static let conv = KernelFamily(name: "conv", kernels: ["conv2d_forward", "conv2d_backward_data", "conv2d_backward_filter"])
}

extension OpenCLBackend {
    /// The geometry as the `int16` the kernels take (see `Kernels/conv.cl`).
    static func packed(_ g: Conv2DGeometry) -> Argument {
        .ints([g.batch, g.height, g.width, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth,
            g.strideY, g.strideX, g.padTop, g.padLeft, g.outHeight, g.outWidth], width: 16)
    }

    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        try launchElementwise("conv2d_forward", count: g.outputCount,
            [Self.packed(g), .buffer(input), .buffer(filter), .buffer(output)])
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        try launchElementwise("conv2d_backward_data", count: g.inputCount,
            [Self.packed(g), .buffer(gradOutput), .buffer(filter), .buffer(gradInput)])
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        try launchElementwise("conv2d_backward_filter", count: g.filterCount,
            [Self.packed(g), .buffer(input), .buffer(gradOutput), .buffer(gradFilter)])
    }
}
