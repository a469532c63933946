import Foundation
import RDCompute


/// Masked convolutions forward and backward against the dense reference restricted to the
/// active taps, in Double.
extension ParityCase {
    public static let maskedConvShapes: [MaskedConv2DShape] = {
        let causalFirstRow = Conv2DGeometry(batch: 2, height: 6, width: 5, inChannels: 3, outChannels: 4, kernelHeight: 3,
            kernelWidth: 3, padTop: 2, padLeft: 1, padRight: 1)
        let aboveAndLeft = Conv2DGeometry.downShifted(batch: 3, height: 5, width: 7, inChannels: 2, outChannels: 5)
        let strided = Conv2DGeometry(batch: 2, height: 7, width: 6, inChannels: 3, outChannels: 2, kernel: 3, stride: 2,
            padding: .same)
        return [
            try! .pixelCNN(.a, batch: 2, height: 7, width: 6, inChannels: 3, outChannels: 4, kernel: 5),
            try! .pixelCNN(.b, batch: 3, height: 5, width: 5, inChannels: 5, outChannels: 2, kernel: 3),
            try! .pixelCNN(.a, batch: 1, height: 4, width: 9, inChannels: 1, outChannels: 3, kernel: 3),
            // PixelCNN++'s first layer: rows strictly above; the row above plus the pixel to the left
            try! MaskedConv2DShape(causalFirstRow, taps: [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]),
            try! MaskedConv2DShape(aboveAndLeft, taps: [(0, 0), (0, 1), (0, 2), (1, 0)]),
            try! MaskedConv2DShape(strided, taps: [(0, 1), (1, 0), (1, 1), (2, 2)]),
            // ≥ 16 channels: the CPU's implicit GEMM over each kernel row's run of taps (partial
            // 8-pixel tiles and channel panels), and stride-1 backward-data as the flipped mask's forward
            try! .pixelCNN(.a, batch: 2, height: 6, width: 11, inChannels: 17, outChannels: 18, kernel: 5),
            try! .pixelCNN(.b, batch: 1, height: 5, width: 9, inChannels: 16, outChannels: 40, kernel: 3),
            // CPU: 3×3 masks as the dense Winograd pass over zero-filled filters (forward,
            // flipped backward-data, filter gradient gathered back to the active taps)
            try! .pixelCNN(.a, batch: 2, height: 9, width: 7, inChannels: 32, outChannels: 32, kernel: 3),
            try! .pixelCNN(.b, batch: 1, height: 6, width: 10, inChannels: 16, outChannels: 64, kernel: 3),
            try! MaskedConv2DShape(Conv2DGeometry(batch: 1, height: 7, width: 8, inChannels: 32, outChannels: 32, kernel: 3,
                stride: 1, padding: .same), taps: [(0, 1), (1, 0), (1, 1), (2, 2)]),
            try! MaskedConv2DShape(Conv2DGeometry(batch: 2, height: 9, width: 7, inChannels: 20, outChannels: 16, kernel: 3,
                stride: 2, padding: .same), taps: [(0, 0), (0, 1), (0, 2), (1, 0)]),
            try! MaskedConv2DShape(Conv2DGeometry(batch: 1, height: 6, width: 5, inChannels: 16, outChannels: 24, kernelHeight: 3,
                kernelWidth: 3, padTop: 2, padLeft: 1, padRight: 1), taps: [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]),
        ]
    }()

    public static var maskedConvCases: [ParityCase] {
        maskedConvShapes.enumerated().flatMap { index, s in
            [
                ParityCase(.maskedConv2dForward, name: "masked conv forward \(s)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(900 + index))
                    let input = data.values(s.geometry.inputCount), filter = data.values(s.filterCount)
                    let output = try backend.makeBuffer(data.values(s.geometry.outputCount))  // overwritten
                    try backend.maskedConv2dForward(s, input: try backend.makeBuffer(input), filter: try backend.makeBuffer(filter),
                        output: output)
                    return (try backend.download(output), Reference.convForward(s.geometry, input, Reference.dense(s, filter)))
                },
                ParityCase(.maskedConv2dBackwardData, name: "masked conv backward-data \(s)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(950 + index))
                    let gradOut = data.values(s.geometry.outputCount), filter = data.values(s.filterCount)
                    let gradIn = try backend.makeBuffer(data.values(s.geometry.inputCount))
                    try backend.maskedConv2dBackwardData(s, gradOutput: try backend.makeBuffer(gradOut),
                        filter: try backend.makeBuffer(filter), gradInput: gradIn)
                    return (try backend.download(gradIn), Reference.convBackwardData(s.geometry, gradOut, Reference.dense(s, filter)))
                },
                ParityCase(.maskedConv2dBackwardFilter, name: "masked conv backward-filter \(s)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(980 + index))
                    let input = data.values(s.geometry.inputCount), gradOut = data.values(s.geometry.outputCount)
                    let gradFilter = try backend.makeBuffer(data.values(s.filterCount))
                    try backend.maskedConv2dBackwardFilter(s, input: try backend.makeBuffer(input),
                        gradOutput: try backend.makeBuffer(gradOut), gradFilter: gradFilter)
                    let dense = Reference.convBackwardFilter(s.geometry, input, gradOut)
                    return (try backend.download(gradFilter), Reference.activeTaps(s, dense))
                },
            ]
        }
    }
}

extension Reference {
    /// The HWIO filter of `s.geometry` with the active taps from `filter` and zeros elsewhere.
    public static func dense(_ s: MaskedConv2DShape, _ filter: [Float]) -> [Float] {
        let perTap = s.geometry.inChannels * s.geometry.outChannels
        var out = [Float](repeating: 0, count: s.geometry.filterCount)
        for (t, tap) in s.taps.enumerated() {
            out.replaceSubrange((tap * perTap)..<((tap + 1) * perTap), with: filter[(t * perTap)..<((t + 1) * perTap)])
        }
        return out
    }

    /// The active taps' slices of a dense HWIO filter gradient.
    public static func activeTaps(_ s: MaskedConv2DShape, _ dense: [Double]) -> [Double] {
        let perTap = s.geometry.inChannels * s.geometry.outChannels
        return s.taps.flatMap { tap in dense[(tap * perTap)..<((tap + 1) * perTap)] }
    }
}
