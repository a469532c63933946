import COpenCL
import RDCompute

extension KernelFamily {
    static let conv = KernelFamily(name: "conv", kernels: ["conv2d_gemm", "masked_conv2d_gemm"], options: \.defines)
}

extension OpenCLBackend {
    /// The geometry as the `int16` the kernels take (see `Kernels/conv.cl`).
    static func packed(_ g: Conv2DGeometry) -> Argument {
        .ints([g.batch, g.height, g.width, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth,
            g.strideY, g.strideX, g.padTop, g.padLeft, g.outHeight, g.outWidth], width: 16)
    }

    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        try convPass(.forward, g, mask: nil, a: input, b: filter, c: output)
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        try convPass(.backwardData, g, mask: nil, a: gradOutput, b: filter, c: gradInput)
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        try convPass(.backwardFilter, g, mask: nil, a: input, b: gradOutput, c: gradFilter)
    }

    /// The pass, then its epilogue in place over what it wrote: one more launch of the
    /// elementwise kernel of ``biasReLU(_:bias:output:)`` or of ``biasReLUBackward(output:gradOutput:gradInput:gradBias:)``'s
    /// mask (each work-item reads its element before writing it, so input and output may be one buffer).
    public func conv2dFused(_ g: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer, filter: DeviceBuffer,
        epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        try OpValidation.convFused(g, pass: pass, input: input, filter: filter, epilogue: epilogue, output: output)
        try convPass(pass == .forward ? .forward : .backwardData, g, mask: nil, a: input, b: filter, c: output)
        let count = pass.counts(g).output
        switch epilogue {
        case .biasReLU(let bias):
            try launchElementwise("bias_relu", count: count,
                [.buffer(output), .buffer(bias), .buffer(output), .int(pass.outputChannels(g)), .int(count)])
        case .reluGate(let activation):
            try launchElementwise("relu_backward_from_output", count: count,
                [.buffer(activation), .buffer(output), .buffer(output), .int(count)])
        }
    }

    /// A tuner's candidate tile with its build of the tiled conv kernels, used instead of the
    /// backend's own.
    struct ConvTiling {
        let tile: GemmTile
        let dense: cl_kernel
        let masked: cl_kernel
    }

    /// The three passes, numbered as `conv2d_gemm`'s `pass` argument.
    enum ConvPass: Int {
        case forward = 0, backwardData, backwardFilter
    }

    /// One pass of a dense (`mask` nil) or masked convolution: the tiled implicit GEMM
    /// (`conv2d_gemm`, or `masked_conv2d_gemm` over the active taps) where the result fills
    /// tiles, else `masked.cl`'s direct kernel (every tap active for a dense conv). Dense kernels
    /// over 64 taps have no direct form and always take the tiled pass. `a` and `b` are the
    /// pass's inputs, `c` its result. The tiled kernels are the backend's, or `tiling`'s.
    func convPass(_ pass: ConvPass, _ g: Conv2DGeometry, mask: MaskedConv2DShape?, a: DeviceBuffer, b: DeviceBuffer,
        c: DeviceBuffer, tiling: ConvTiling? = nil) throws {
        let taps = mask?.taps.count ?? g.kernelHeight * g.kernelWidth
        let (rows, columns, tiled, direct): (Int, Int, Bool, String)
        switch pass {
        case .forward:
            (rows, columns) = (g.batch * g.outHeight * g.outWidth, g.outChannels)
            (tiled, direct) = (Self.tiles(columns: columns), "masked_conv2d_forward")
        case .backwardData:
            // The depth runs over every tap and output channel; only stride-1 convolutions whose
            // output covers most of the input reach the input through most taps.
            (rows, columns) = (g.batch * g.height * g.width, g.inChannels)
            let covered = g.strideY == 1 && g.strideX == 1 && 2 * g.outHeight * g.outWidth >= g.height * g.width
            (tiled, direct) = (covered && Self.tiles(columns: columns), "masked_conv2d_backward_data")
        case .backwardFilter:
            (rows, columns) = (taps * g.inChannels, g.outChannels)
            (tiled, direct) = (Self.tiles(columns: columns), "masked_conv2d_backward_filter")
        }
        let bits = mask?.tapBits ?? (taps > 64 ? nil : taps == 64 ? .max : (1 << UInt64(taps)) - 1)
        if !tiled, let bits {
            return try launchElementwise(direct, count: rows * columns,
                [Self.packed(g), .ulong(bits), .buffer(a), .buffer(b), .buffer(c)])
        }
        let tile = tiling?.tile ?? gemmTile
        let global = [(columns + tile.tileSize - 1) / tile.tileSize * tile.tileSize,
            (rows + tile.tileSize - 1) / tile.tileSize * tile.localSize[1]]
        guard let mask else {
            return try launch(try tiling?.dense ?? kernel(named: "conv2d_gemm"), name: "conv2d_gemm", global: global,
                local: tile.localSize, [Self.packed(g), .int(pass.rawValue), .buffer(a), .buffer(b), .buffer(c)])
        }
        try launch(try tiling?.masked ?? kernel(named: "masked_conv2d_gemm"), name: "masked_conv2d_gemm", global: global,
            local: tile.localSize, [Self.packed(g), .int(pass.rawValue), .int(taps),
                .buffer(try makeIndexBuffer(mask.taps.map(Int32.init))), .buffer(a), .buffer(b), .buffer(c)])
    }

    /// Whether a result with this many columns fills enough of a tile to beat the direct kernels.
    static func tiles(columns: Int) -> Bool { columns >= 16 }
}
