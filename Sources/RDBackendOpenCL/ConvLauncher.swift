import RDCompute

extension KernelFamily {
    static let conv = KernelFamily(name: "conv", kernels: ["conv2d_gemm", "masked_conv2d_gemm"])
}

extension OpenCLBackend {
    /// The geometry as the `int16` the kernels take (see `Kernels/conv.cl`).
    static func packed(_ g: Conv2DGeometry) -> Argument {
        .ints([g.batch, g.height, g.width, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth,
            g.strideY, g.strideX, g.padTop, g.padLeft, g.outHeight, g.outWidth], width: 16)
    }

    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        if let all = Self.allTaps(g), !Self.tiles(columns: g.outChannels) {
            return try launchElementwise("masked_conv2d_forward", count: g.outputCount,
                [Self.packed(g), .ulong(all), .buffer(input), .buffer(filter), .buffer(output)])
        }
        try launchConvGemm(g, pass: 0, rows: g.batch * g.outHeight * g.outWidth, columns: g.outChannels, a: input, b: filter,
            c: output)
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        if let all = Self.allTaps(g), !Self.backwardDataTiles(g) {
            return try launchElementwise("masked_conv2d_backward_data", count: g.inputCount,
                [Self.packed(g), .ulong(all), .buffer(gradOutput), .buffer(filter), .buffer(gradInput)])
        }
        try launchConvGemm(g, pass: 1, rows: g.batch * g.height * g.width, columns: g.inChannels, a: gradOutput, b: filter,
            c: gradInput)
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        if let all = Self.allTaps(g), !Self.tiles(columns: g.outChannels) {
            return try launchElementwise("masked_conv2d_backward_filter", count: g.filterCount,
                [Self.packed(g), .ulong(all), .buffer(input), .buffer(gradOutput), .buffer(gradFilter)])
        }
        try launchConvGemm(g, pass: 2, rows: g.kernelHeight * g.kernelWidth * g.inChannels, columns: g.outChannels, a: input,
            b: gradOutput, c: gradFilter)
    }

    /// Every tap of the kernel as the direct kernels' bit set (`masked.cl`), or nil for kernels
    /// of more than 64 taps, which always take the tiled pass.
    static func allTaps(_ g: Conv2DGeometry) -> UInt64? {
        let taps = g.kernelHeight * g.kernelWidth
        return taps > 64 ? nil : taps == 64 ? .max : (1 << UInt64(taps)) - 1
    }

    /// Whether a result with this many columns fills enough of a tile to beat the direct kernels.
    static func tiles(columns: Int) -> Bool { columns >= 16 }

    /// One pass of `conv2d_gemm` over a `rows × columns` result in ``GemmTile`` tiles, or of
    /// `masked_conv2d_gemm` over a masked conv's active taps (as `ky·kw + kx`).
    func launchConvGemm(_ g: Conv2DGeometry, pass: Int, rows: Int, columns: Int, a: DeviceBuffer, b: DeviceBuffer,
        c: DeviceBuffer, taps: [Int]? = nil) throws {
        let ts = gemmTile.tileSize
        let global = [(columns + ts - 1) / ts * ts, (rows + ts - 1) / ts * gemmTile.localSize[1]]
        guard let taps else {
            return try launch("conv2d_gemm", global: global, local: gemmTile.localSize,
                [Self.packed(g), .int(pass), .buffer(a), .buffer(b), .buffer(c)])
        }
        try launch("masked_conv2d_gemm", global: global, local: gemmTile.localSize, [Self.packed(g), .int(pass),
            .int(taps.count), .buffer(try makeIndexBuffer(taps.map(Int32.init))), .buffer(a), .buffer(b), .buffer(c)])
    }

    /// Whether backward-data as a GEMM would mostly multiply zeros: its depth runs over every tap
    /// and output channel, and only stride-1 convolutions whose output covers most of the input
    /// reach the input through most taps.
    static func backwardDataTiles(_ g: Conv2DGeometry) -> Bool {
        g.strideY == 1 && g.strideX == 1 && 2 * g.outHeight * g.outWidth >= g.height * g.width && tiles(columns: g.inChannels)
    }
}
