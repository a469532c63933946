/// A convolution that reads only some taps of its kernel (seed-spec §4): PixelCNN's type A/B
/// masks, and the causal first layer of PixelCNN++ (a shifted kernel with its current row or
/// column cut away). The masked-out taps are not stored and never visited, so the filter is
/// `[taps.count, inChannels, outChannels]`: the HWIO filter of ``geometry`` restricted to the
/// active taps, in raster order.
public struct MaskedConv2DShape: Sendable, Equatable, CustomStringConvertible {
    /// The dense convolution the mask is cut from (kernel size, stride, padding).
    public let geometry: Conv2DGeometry
    /// Active taps as `ky · kernelWidth + kx`, increasing.
    public let taps: [Int]

    /// A mask from its active taps `(ky, kx)`; the kernel may have at most 64 taps.
    public init(_ geometry: Conv2DGeometry, taps: [(ky: Int, kx: Int)]) throws {
        try geometry.validate(op: "MaskedConv2DShape")
        let kh = geometry.kernelHeight, kw = geometry.kernelWidth
        guard kh * kw <= 64 else {
            throw ComputeError.invalidArgument(op: "MaskedConv2DShape", reason: "a \(kh)x\(kw) kernel has more than 64 taps")
        }
        guard !taps.isEmpty, taps.allSatisfy({ (0..<kh).contains($0.ky) && (0..<kw).contains($0.kx) }) else {
            throw ComputeError.invalidArgument(op: "MaskedConv2DShape", reason: "taps must be nonempty and inside the \(kh)x\(kw) kernel")
        }
        let indices = Set(taps.map { $0.ky * kw + $0.kx }).sorted()
        guard indices.count == taps.count else {
            throw ComputeError.invalidArgument(op: "MaskedConv2DShape", reason: "a tap is listed twice")
        }
        self.geometry = geometry
        self.taps = indices
    }

    /// PixelCNN's masks (van den Oord): type A sees the rows above and the pixels to the left;
    /// type B also the centre.
    public enum PixelCNNMask: String, Sendable, CaseIterable {
        case a = "A", b = "B"
    }

    /// A k×k (k odd) stride-1 `same` masked convolution of type A or B.
    public static func pixelCNN(_ mask: PixelCNNMask, batch: Int, height: Int, width: Int, inChannels: Int,
        outChannels: Int, kernel: Int) throws -> MaskedConv2DShape {
        guard kernel % 2 == 1 else {
            throw ComputeError.invalidArgument(op: "MaskedConv2DShape", reason: "PixelCNN masks need an odd kernel, got \(kernel)")
        }
        let c = (kernel - 1) / 2
        let geometry = Conv2DGeometry(batch: batch, height: height, width: width, inChannels: inChannels,
            outChannels: outChannels, kernel: kernel, stride: 1, padding: .same)
        let last = mask == .a ? c - 1 : c
        let taps = (0..<kernel).flatMap { ky in (0..<kernel).map { kx in (ky: ky, kx: kx) } }
            .filter { $0.ky < c || ($0.ky == c && $0.kx <= last) }
        return try MaskedConv2DShape(geometry, taps: taps)
    }

    /// The active taps as a bit set (bit `ky · kernelWidth + kx`), as the OpenCL kernels read them.
    public var tapBits: UInt64 { taps.reduce(0) { $0 | (1 << UInt64($1)) } }

    /// Whether the tap `(ky, kx)` is active.
    public func isActive(ky: Int, kx: Int) -> Bool { taps.contains(ky * geometry.kernelWidth + kx) }

    public var filterCount: Int { taps.count * geometry.inChannels * geometry.outChannels }

    /// Multiply-adds of one pass times two, counting active taps only.
    public var flops: Double { geometry.flops * Double(taps.count) / Double(geometry.kernelHeight * geometry.kernelWidth) }

    public var description: String { "\(geometry) taps \(taps.count)/\(geometry.kernelHeight * geometry.kernelWidth)" }
}

extension OpValidation {
    public static func maskedConv(_ s: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer,
        op: String) throws {
        try s.geometry.validate(op: op)
        try count(input, s.geometry.inputCount, "input", op)
        try count(filter, s.filterCount, "filter", op)
        try count(output, s.geometry.outputCount, "output", op)
    }
}
