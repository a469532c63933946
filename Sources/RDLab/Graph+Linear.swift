import RDCompute

/// Matrix products, convolutions and bias: forward calls and their backward rules.
extension Graph {
    /// `x[..., in] · w[in, out]` → `[..., out]`.
    public func matmul(_ x: Tensor, _ w: Tensor) throws -> Tensor {
        guard w.shape.count == 2, let inner = x.shape.last, inner == w.shape[0] else {
            throw ComputeError.invalidArgument(op: "matmul", reason: "shapes \(x.shape) and \(w.shape) do not chain")
        }
        let (m, k, n) = (x.count / inner, inner, w.shape[1])
        let shape = Array(x.shape.dropLast()) + [n]
        let y = try output(shape)
        try backend.gemm(GemmDescriptor(m: m, n: n, k: k), a: x.buffer, b: w.buffer, c: y)
        return record(shape, y, inputs: [x, w]) { [backend] gy in
            var dx: DeviceBuffer?, dw: DeviceBuffer?
            if x.requiresGradient {
                dx = try backend.makeBuffer(count: m * k)
                try backend.gemm(GemmDescriptor(m: m, n: k, k: n, transposeB: true), a: gy, b: w.buffer, c: dx!)
            }
            if w.requiresGradient {
                dw = try backend.makeBuffer(count: k * n)
                try backend.gemm(GemmDescriptor(m: k, n: n, k: m, transposeA: true), a: x.buffer, b: gy, c: dw!)
            }
            return [dx, dw]
        }
    }

    /// Throws unless `bias` is a vector with one value per channel (last axis) of `x`.
    private func checkBias(_ x: Tensor, _ bias: Tensor, op: String) throws {
        guard bias.shape.count == 1, x.shape.last == bias.shape[0] else {
            throw ComputeError.invalidArgument(op: op, reason: "bias \(bias.shape) does not match channels of \(x.shape)")
        }
    }

    /// `relu(x + bias)` with the bias on the last axis, forward and backward each in one fused pass.
    public func addBiasReLU(_ x: Tensor, _ bias: Tensor) throws -> Tensor {
        try checkBias(x, bias, op: "addBiasReLU")
        let y = try output(x.shape)
        try backend.biasReLU(x.buffer, bias: bias.buffer, output: y)
        return record(x.shape, y, inputs: [x, bias]) { [backend] gy in
            let gx = try backend.makeBuffer(count: gy.count)
            let db = try backend.makeBuffer(count: bias.count)
            try backend.biasReLUBackward(output: y, gradOutput: gy, gradInput: gx, gradBias: db)
            return [gx, db]
        }
    }

    /// `x + bias` along the last (channel) axis.
    public func addBias(_ x: Tensor, _ bias: Tensor) throws -> Tensor {
        try checkBias(x, bias, op: "addBias")
        let y = try output(x.shape)
        try backend.biasAdd(x.buffer, bias: bias.buffer, output: y)
        return record(x.shape, y, inputs: [x, bias]) { [backend] gy in
            var db: DeviceBuffer?
            if bias.requiresGradient {
                db = try backend.makeBuffer(count: bias.count)
                try backend.biasGradient(gy, gradBias: db!)
            }
            return [gy, db]
        }
    }

    /// Geometry of a forward convolution of NHWC `x` with HWIO `w`.
    static func geometry(_ x: Tensor, _ w: Tensor, stride: Int, padding: Conv2DGeometry.Padding, op: String) throws
        -> Conv2DGeometry {
        guard x.shape.count == 4, w.shape.count == 4, w.shape[0] == w.shape[1], x.shape[3] == w.shape[2] else {
            throw ComputeError.invalidArgument(op: op, reason: "input \(x.shape) and filter \(w.shape) do not fit (NHWC, HWIO)")
        }
        return Conv2DGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], inChannels: x.shape[3],
            outChannels: w.shape[3], kernel: w.shape[0], stride: stride, padding: padding)
    }

    /// Keras `Conv2D` (no bias): NHWC `x`, filter `[k, k, in, out]`.
    public func conv2d(_ x: Tensor, _ w: Tensor, stride: Int, padding: Conv2DGeometry.Padding) throws -> Tensor {
        try conv2d(x, w, geometry: try Self.geometry(x, w, stride: stride, padding: padding, op: "conv2d"))
    }

    /// A convolution of NHWC `x` with HWIO `w` of any ``Conv2DGeometry`` (asymmetric padding,
    /// non-square kernels: PixelCNN++'s shifted convolutions).
    public func conv2d(_ x: Tensor, _ w: Tensor, geometry g: Conv2DGeometry) throws -> Tensor {
        guard x.shape == [g.batch, g.height, g.width, g.inChannels],
            w.shape == [g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels]
        else { throw ComputeError.invalidArgument(op: "conv2d", reason: "input \(x.shape) and filter \(w.shape) do not fit \(g)") }
        let shape = [g.batch, g.outHeight, g.outWidth, g.outChannels]
        let y = try output(shape)
        try backend.conv2dForward(g, input: x.buffer, filter: w.buffer, output: y)
        return record(shape, y, inputs: [x, w]) { [backend] gy in
            var dx: DeviceBuffer?, dw: DeviceBuffer?
            if x.requiresGradient {
                dx = try backend.makeBuffer(count: g.inputCount)
                try backend.conv2dBackwardData(g, gradOutput: gy, filter: w.buffer, gradInput: dx!)
            }
            if w.requiresGradient {
                dw = try backend.makeBuffer(count: g.filterCount)
                try backend.conv2dBackwardFilter(g, input: x.buffer, gradOutput: gy, gradFilter: dw!)
            }
            return [dx, dw]
        }
    }

    /// Keras `Conv2DTranspose` (no bias): NHWC `x`, filter `[k, k, out, in]` (Keras' layout);
    /// output size `in·stride` (`same`) or `(in − 1)·stride + k` (`valid`), seed-spec §6.1.
    public func convTranspose2d(_ x: Tensor, _ w: Tensor, stride: Int, padding: Conv2DGeometry.Padding) throws -> Tensor {
        guard x.shape.count == 4, w.shape.count == 4, w.shape[0] == w.shape[1], x.shape[3] == w.shape[3] else {
            throw ComputeError.invalidArgument(op: "convTranspose2d", reason: "input \(x.shape) and filter \(w.shape) do not fit (NHWC, [k,k,out,in])")
        }
        return try convTranspose2d(x, w, geometry: .transposed(batch: x.shape[0], inHeight: x.shape[1], inWidth: x.shape[2],
            inChannels: x.shape[3], outChannels: w.shape[2], kernel: w.shape[0], stride: stride, padding: padding))
    }

    /// The backward-data pass of the convolution `g` as a layer: `x` is `g`'s output-shaped
    /// `[batch, outHeight, outWidth, outChannels]`, the result `g`'s input-shaped, `w` `g`'s filter.
    public func convTranspose2d(_ x: Tensor, _ w: Tensor, geometry g: Conv2DGeometry) throws -> Tensor {
        guard x.shape == [g.batch, g.outHeight, g.outWidth, g.outChannels],
            w.shape == [g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels]
        else {
            throw ComputeError.invalidArgument(op: "convTranspose2d", reason: "input \(x.shape) and filter \(w.shape) do not fit the transpose of \(g)")
        }
        let shape = [g.batch, g.height, g.width, g.inChannels]
        let y = try output(shape)
        try backend.conv2dBackwardData(g, gradOutput: x.buffer, filter: w.buffer, gradInput: y)
        return record(shape, y, inputs: [x, w]) { [backend] gy in
            var dx: DeviceBuffer?, dw: DeviceBuffer?
            if x.requiresGradient {
                dx = try backend.makeBuffer(count: g.outputCount)
                try backend.conv2dForward(g, input: gy, filter: w.buffer, output: dx!)
            }
            if w.requiresGradient {
                dw = try backend.makeBuffer(count: g.filterCount)
                try backend.conv2dBackwardFilter(g, input: gy, gradOutput: x.buffer, gradFilter: dw!)
            }
            return [dx, dw]
        }
    }

    /// A masked convolution of NHWC `x` with the active-tap filter `[taps, in, out]` of `shape`.
    public func maskedConv2d(_ x: Tensor, _ w: Tensor, shape s: MaskedConv2DShape) throws -> Tensor {
        let g = s.geometry
        guard x.shape == [g.batch, g.height, g.width, g.inChannels], w.shape == [s.taps.count, g.inChannels, g.outChannels]
        else { throw ComputeError.invalidArgument(op: "maskedConv2d", reason: "input \(x.shape) and filter \(w.shape) do not fit \(s)") }
        let shape = [g.batch, g.outHeight, g.outWidth, g.outChannels]
        let y = try output(shape)
        try backend.maskedConv2dForward(s, input: x.buffer, filter: w.buffer, output: y)
        return record(shape, y, inputs: [x, w]) { [backend] gy in
            var dx: DeviceBuffer?, dw: DeviceBuffer?
            if x.requiresGradient {
                dx = try backend.makeBuffer(count: g.inputCount)
                try backend.maskedConv2dBackwardData(s, gradOutput: gy, filter: w.buffer, gradInput: dx!)
            }
            if w.requiresGradient {
                dw = try backend.makeBuffer(count: s.filterCount)
                try backend.maskedConv2dBackwardFilter(s, input: x.buffer, gradOutput: gy, gradFilter: dw!)
            }
            return [dx, dw]
        }
    }
}
