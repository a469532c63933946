/// PixelCNN++'s causal convolutions (seed-spec §4.2, `openai/pixel-cnn`) as plain
/// ``Conv2DGeometry`` paddings: they need no mask, only zero padding on the top (and left) so
/// that output (i, j) sees rows ≤ i (and columns ≤ j).
extension Conv2DGeometry {
    /// Down-shifted conv: pad `kh − 1` rows on top and `(kw − 1)/2` columns each side, then VALID.
    public static func downShifted(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
        kernelHeight: Int = 2, kernelWidth: Int = 3, stride: Int = 1) -> Conv2DGeometry {
        Conv2DGeometry(batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideY: stride, strideX: stride,
            padTop: kernelHeight - 1, padLeft: (kernelWidth - 1) / 2, padRight: (kernelWidth - 1) / 2)
    }

    /// Down-right-shifted conv: pad `kh − 1` rows on top and `kw − 1` columns on the left, then VALID.
    public static func downRightShifted(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
        kernelHeight: Int = 2, kernelWidth: Int = 2, stride: Int = 1) -> Conv2DGeometry {
        Conv2DGeometry(batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideY: stride, strideX: stride,
            padTop: kernelHeight - 1, padLeft: kernelWidth - 1)
    }

    /// The geometry whose backward-data pass is PixelCNN++'s up-sampling deconv: a VALID
    /// transposed conv of `[batch, inHeight, inWidth, inChannels]` to `in·stride` rows and columns,
    /// cropped to the first rows and to the centre columns (down-shifted) or the first columns
    /// (`rightShifted`). As for ``transposed(batch:inHeight:inWidth:inChannels:outChannels:kernel:stride:padding:)``,
    /// the returned geometry's input is the deconv's output and its filter is `[kh, kw, outChannels, inChannels]`.
    public static func shiftedTransposed(batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, outChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Int, rightShifted: Bool) -> Conv2DGeometry {
        let left = rightShifted ? 0 : (kernelWidth - 1) / 2
        return Conv2DGeometry(batch: batch, height: inHeight * stride, width: inWidth * stride, inChannels: outChannels,
            outChannels: inChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideY: stride, strideX: stride,
            padTop: 0, padBottom: max(0, kernelHeight - stride), padLeft: left, padRight: max(0, kernelWidth - left - stride))
    }
}
