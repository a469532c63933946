import RDCompute

extension KernelFamily {
    static let conv = KernelFamily(name: "conv",
        kernels: ["conv2d_gemm", "conv2d_forward", "conv2d_backward_data", "conv2d_backward_filter"])
}

extension OpenCLBackend {
    /// The geometry as the `int16` the kernels take (see `Kernels/conv.cl`).
    static func packed(_ g: Conv2DGeometry) -> Argument {
        .ints([g.batch, g.height, g.width, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth,
            g.strideY, g.strideX, g.padTop, g.padLeft, g.outHeight, g.outWidth], width: 16)
    }

    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        guard Self.tiles(columns: g.outChannels) else {
            return try launchElementwise("conv2d_forward", count: g.outputCount,
                [Self.packed(g), .buffer(input), .buffer(filter), .buffer(output)])
        }
        try launchConvGemm(g, pass: 0, rows: g.batch * g.outHeight * g.outWidth, columns: g.outChannels, a: input, b: filter,
            c: output)
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        guard Self.backwardDataTiles(g) else {
            return try launchElementwise("conv2d_backward_data", count: g.inputCount,
                [Self.packed(g), .buffer(gradOutput), .buffer(filter), .buffer(gradInput)])
        }
        try launchConvGemm(g, pass: 1, rows: g.batch * g.height * g.width, columns: g.inChannels, a: gradOutput, b: filter,
            c: gradInput)
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        guard Self.tiles(columns: g.outChannels) else {
            return try launchElementwise("conv2d_backward_filter", count: g.filterCount,
                [Self.packed(g), .buffer(input), .buffer(gradOutput), .buffer(gradFilter)])
        }
        try launchConvGemm(g, pass: 2, rows: g.kernelHeight * g.kernelWidth * g.inChannels, columns: g.outChannels, a: input,
            b: gradOutput, c: gradFilter)
    }

    /// Whether a result with this many columns fills enough of a tile to beat the direct kernels.
    static func tiles(columns: Int) -> Bool { columns >= 16 }

    /// One pass of `conv2d_gemm` over a `rows × columns` result in ``GemmTile`` tiles; a
    /// masked conv passes its active taps (as `ky·kw + kx`), a dense one all of them.
    func launchConvGemm(_ g: Conv2DGeometry, pass: Int, rows: Int, columns: Int, a: DeviceBuffer, b: DeviceBuffer,
        c: DeviceBuffer, taps: [Int]? = nil) throws {
        let ts = gemmTile.tileSize
        let table = try taps.map { try makeIndexBuffer($0.map(Int32.init)) } ?? denseTapTable!
        try launch("conv2d_gemm", global: [(columns + ts - 1) / ts * ts, (rows + ts - 1) / ts * gemmTile.localSize[1]],
            local: gemmTile.localSize, [Self.packed(g), .int(pass), .int(taps?.count ?? g.kernelHeight * g.kernelWidth),
                .int(taps == nil ? 0 : 1), .buffer(table), .buffer(a), .buffer(b), .buffer(c)])
    }

    /// Whether backward-data as a GEMM would mostly multiply zeros: its depth runs over every tap
    /// and output channel, and only stride-1 convolutions whose output covers most of the input
    /// reach the input through most taps.
    static func backwardDataTiles(_ g: Conv2DGeometry) -> Bool {
        g.strideY == 1 && g.strideX == 1 && 2 * g.outHeight * g.outWidth >= g.height * g.width && tiles(columns: g.inChannels)
    }
}
