/// Shapes of a 2-D convolution over NHWC images with HWIO filters (TensorFlow's layouts).
///
/// Forward: input `[batch, height, width, inChannels]`, filter
/// `[kernelHeight, kernelWidth, inChannels, outChannels]`, output
/// `[batch, outHeight, outWidth, outChannels]`, with explicit zero padding on each side.
/// A transposed convolution is the backward-data pass of the convolution that maps its
/// output back to its input; ``transposed(batch:inHeight:inWidth:inChannels:outChannels:kernel:stride:padding:)``
/// builds that geometry with Keras' output-shape rule.
public struct Conv2DGeometry: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int
    public var height: Int
    public var width: Int
    public var inChannels: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideY: Int
    public var strideX: Int
    public var padTop: Int
    public var padBottom: Int
    public var padLeft: Int
    public var padRight: Int

    /// Keras/TensorFlow padding modes.
    public enum Padding: String, Sendable, CaseIterable {
        /// `out = ceil(in / stride)`, extra padding bottom/right.
        case same
        /// No padding, `out = floor((in - k) / stride) + 1`.
        case valid
    }

    public init(
        batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
        kernelHeight: Int, kernelWidth: Int, strideY: Int = 1, strideX: Int = 1,
        padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0
    ) {
        self.batch = batch
        self.height = height
        self.width = width
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.padTop = padTop
        self.padBottom = padBottom
        self.padLeft = padLeft
        self.padRight = padRight
    }

    /// A forward convolution with Keras `same`/`valid` padding.
    public init(
        batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
        kernel: Int, stride: Int, padding: Padding
    ) {
        let (top, bottom) = Self.keras(padding, size: height, kernel: kernel, stride: stride)
        let (left, right) = Self.keras(padding, size: width, kernel: kernel, stride: stride)
        self.init(
            batch: batch, height: height, width: width, inChannels: inChannels,
            outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
            strideY: stride, strideX: stride, padTop: top, padBottom: bottom, padLeft: left, padRight: right)
    }

    /// The geometry whose backward-data pass is a Keras `Conv2DTranspose`.
    ///
    /// The transposed convolution reads `[batch, inHeight, inWidth, inChannels]` and writes
    /// `[batch, in·s, in·s, outChannels]` (`same`) or `(in−1)·s + k` (`valid`). In the returned
    /// geometry those roles swap: its *input* is the transposed conv's output, its *output*
    /// the transposed conv's input, and its filter is `[k, k, outChannels, inChannels]`.
    public static func transposed(
        batch: Int, inHeight: Int, inWidth: Int, inChannels: Int, outChannels: Int,
        kernel: Int, stride: Int, padding: Padding
    ) -> Conv2DGeometry {
        func outSize(_ size: Int) -> Int {
            padding == .same ? size * stride : (size - 1) * stride + kernel
        }
        let h = outSize(inHeight)
        let w = outSize(inWidth)
        var g = Conv2DGeometry(
            batch: batch, height: h, width: w, inChannels: outChannels, outChannels: inChannels,
            kernel: kernel, stride: stride, padding: padding)
        if padding == .same {
            // Keras crops the full transposed output starting at pad_before of the forward
            // conv out -> in, where pad_total = max((in - 1)s + k - out, 0).
            let totalY = max((inHeight - 1) * stride + kernel - h, 0)
            let totalX = max((inWidth - 1) * stride + kernel - w, 0)
            g.padTop = totalY / 2
            g.padBottom = totalY - totalY / 2
            g.padLeft = totalX / 2
            g.padRight = totalX - totalX / 2
        }
        return g
    }

    /// Keras padding for one spatial axis: (before, after).
    public static func keras(_ padding: Padding, size: Int, kernel: Int, stride: Int) -> (Int, Int) {
        guard padding == .same else { return (0, 0) }
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2)
    }

    public var outHeight: Int { (height + padTop + padBottom - kernelHeight) / strideY + 1 }
    public var outWidth: Int { (width + padLeft + padRight - kernelWidth) / strideX + 1 }
    public var inputCount: Int { batch * height * width * inChannels }
    public var outputCount: Int { batch * outHeight * outWidth * outChannels }
    public var filterCount: Int { kernelHeight * kernelWidth * inChannels * outChannels }

    /// Multiply-adds of one pass (forward, backward-data or backward-filter) times two,
    /// counting only taps that land inside the padded image.
    public var flops: Double {
        2 * Double(batch) * Double(outHeight * outWidth) * Double(kernelHeight * kernelWidth)
            * Double(inChannels) * Double(outChannels)
    }

    /// Whether the sizes describe a computable convolution.
    public func validate(op: String) throws {
        let positive = [batch, height, width, inChannels, outChannels, kernelHeight, kernelWidth, strideY, strideX]
        guard positive.allSatisfy({ $0 > 0 }),
            [padTop, padBottom, padLeft, padRight].allSatisfy({ $0 >= 0 })
        else { throw ComputeError.invalidArgument(op: op, reason: "non-positive size or negative padding in \(self)") }
        guard let paddedHeight = OpValidation.sum(height, padTop, padBottom), let paddedWidth = OpValidation.sum(width, padLeft, padRight),
            OpValidation.product(batch, height, width, inChannels) != nil,
            OpValidation.product(kernelHeight, kernelWidth, inChannels, outChannels) != nil
        else { throw ComputeError.invalidArgument(op: op, reason: "sizes overflow Int in \(self)") }
        guard paddedHeight >= kernelHeight, paddedWidth >= kernelWidth else {
            throw ComputeError.invalidArgument(op: op, reason: "kernel larger than padded input in \(self)")
        }
        guard OpValidation.product(batch, outHeight, outWidth, outChannels) != nil else {
            throw ComputeError.invalidArgument(op: op, reason: "sizes overflow Int in \(self)")
        }
    }

    public var description: String {
        // computed only when it can be: the geometry may be the invalid one an error reports
        let out: String
        if strideY > 0, strideX > 0, kernelHeight > 0, kernelWidth > 0,
            [height, width, padTop, padBottom, padLeft, padRight].allSatisfy({ $0 >= 0 }),
            let h = OpValidation.sum(height, padTop, padBottom), let w = OpValidation.sum(width, padLeft, padRight) {
            out = "\((h - kernelHeight) / strideY + 1)x\((w - kernelWidth) / strideX + 1)"
        } else {
            out = "undefined"
        }
        return "conv \(batch)x\(height)x\(width)x\(inChannels) k\(kernelHeight)x\(kernelWidth)→\(outChannels) "
            + "s\(strideY)x\(strideX) pad \(padTop),\(padBottom),\(padLeft),\(padRight) out \(out)"
    }
}
