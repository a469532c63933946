/// PyTorch's convolution geometry (`nn.Conv2d`, `nn.ConvTranspose2d`): the same padding on
/// both sides of each axis, and for the transposed convolution an `output_padding` added at
/// the bottom and right (seed-spec §6.1: not Keras' `same`, which pads bottom/right first).
extension Conv2DGeometry {
    /// `nn.Conv2d(k, stride: s, padding: p)` on NHWC: `out = ⌊(in + 2p − k)/s⌋ + 1`.
    public static func pytorch(
        batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    ) -> Conv2DGeometry {
        Conv2DGeometry(batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
            kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride, padTop: padding, padBottom: padding,
            padLeft: padding, padRight: padding)
    }

    /// The geometry whose backward-data pass is `nn.ConvTranspose2d(k, stride: s, padding: p,
    /// output_padding: q)`: it reads `[batch, inHeight, inWidth, inChannels]` and writes
    /// `out = (in − 1)·s − 2p + k + q` rows and columns of `outChannels`.
    ///
    /// The full transposed output has `(in − 1)·s + k` rows; PyTorch drops `p` at the top and
    /// `p − q` at the bottom (when q > p it appends q − p rows that no input reaches: they hold
    /// the bias alone). In the returned geometry
    /// the roles swap, as in ``transposed(batch:inHeight:inWidth:inChannels:outChannels:kernel:stride:padding:)``:
    /// its input is the transposed conv's output and its padding `p` on top, `max(p − q, 0)`
    /// below; rows the forward conv never reads receive no contribution.
    public static func pytorchTransposed(
        batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int,
        outputPadding: Int = 0
    ) -> Conv2DGeometry {
        func outSize(_ size: Int) -> Int { (size - 1) * stride - 2 * padding + kernel + outputPadding }
        let below = max(padding - outputPadding, 0)
        return Conv2DGeometry(batch: batch, height: outSize(inHeight), width: outSize(inWidth), inChannels: outChannels,
            outChannels: inChannels, kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride,
            padTop: padding, padBottom: below, padLeft: padding, padRight: below)
    }
}
