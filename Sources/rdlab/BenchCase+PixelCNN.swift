import RDCompute
import RDLab

extension BenchCase {
    /// PixelCNN convolutions at 28×28×64 → 64, batch 100: type A/B masked k×k and PixelCNN++'s
    /// down-shifted [2, 3] and down-right-shifted [2, 2] convolutions.
    static let pixelCNNMasks: [(String, MaskedConv2DShape)] = [
        ("type A 3x3", try! .pixelCNN(.a, batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64, kernel: 3)),
        ("type B 3x3", try! .pixelCNN(.b, batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64, kernel: 3)),
        ("type B 5x5", try! .pixelCNN(.b, batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64, kernel: 5)),
    ]

    static let pixelCNNShifted: [(String, Conv2DGeometry)] = [
        ("down-shifted 2x3", .downShifted(batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64)),
        ("down-right-shifted 2x2", .downRightShifted(batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64)),
    ]

    /// Each masked convolution's three passes over the active taps (GFLOP/s of the unmasked
    /// FLOPs), the same passes as dense convolutions on pre-masked k×k filters (all FLOPs), and
    /// the shifted convolutions' passes.
    static var pixelCNNCases: [BenchCase] {
        let masked = pixelCNNMasks.flatMap { name, s -> [BenchCase] in
            let g = s.geometry
            @Sendable func buffers(_ backend: any Backend, filter: Int) throws -> (DeviceBuffer, DeviceBuffer, DeviceBuffer) {
                try (random(backend, g.inputCount, stream: 1), random(backend, filter, stream: 2), random(backend, g.outputCount, stream: 3))
            }
            return [
                BenchCase(name: "pixelcnn \(name) fwd", flops: s.flops) { backend in
                    let (x, w, y) = try buffers(backend, filter: s.filterCount)
                    return { try backend.maskedConv2dForward(s, input: x, filter: w, output: y) }
                },
                BenchCase(name: "pixelcnn \(name) bwd-data", flops: s.flops) { backend in
                    let (dx, w, gy) = try buffers(backend, filter: s.filterCount)
                    return { try backend.maskedConv2dBackwardData(s, gradOutput: gy, filter: w, gradInput: dx) }
                },
                BenchCase(name: "pixelcnn \(name) bwd-filter", flops: s.flops) { backend in
                    let (x, dw, gy) = try buffers(backend, filter: s.filterCount)
                    return { try backend.maskedConv2dBackwardFilter(s, input: x, gradOutput: gy, gradFilter: dw) }
                },
                BenchCase(name: "pixelcnn \(name) fwd as dense conv", flops: g.flops) { backend in
                    let (x, w, y) = try buffers(backend, filter: g.filterCount)
                    return { try backend.conv2dForward(g, input: x, filter: w, output: y) }
                },
                BenchCase(name: "pixelcnn \(name) bwd as dense conv", flops: 2 * g.flops) { backend in
                    let (x, w, gy) = try buffers(backend, filter: g.filterCount)
                    let (dx, dw) = try (backend.makeBuffer(count: g.inputCount), backend.makeBuffer(count: g.filterCount))
                    return {
                        try backend.conv2dBackwardData(g, gradOutput: gy, filter: w, gradInput: dx)
                        try backend.conv2dBackwardFilter(g, input: x, gradOutput: gy, gradFilter: dw)
                    }
                },
            ]
        }
        let shifted = pixelCNNShifted.flatMap { name, g in
            [("fwd", ConvPass.forward), ("bwd-data", .backwardData), ("bwd-filter", .backwardFilter)].map { pass, kind in
                convCase("pixelcnn \(name) \(pass)", g, kind)
            }
        }
        return masked + shifted
    }
}
