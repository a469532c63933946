import Testing

@testable import RDCompute

@Suite("Conv geometry (Keras rules, seed-spec §6)")
struct GeometryTests {
    /// Encoder table of §6.2: (in, k, s, padding) -> (out, pad before, pad after).
    @Test(arguments: [
        (28, 5, 1, Conv2DGeometry.Padding.same, 28, 2, 2), (28, 5, 2, .same, 14, 1, 2), (14, 5, 1, .same, 14, 2, 2),
        (14, 5, 2, .same, 7, 1, 2), (7, 7, 1, .valid, 1, 0, 0),
    ])
    func encoderShapes(size: Int, k: Int, s: Int, padding: Conv2DGeometry.Padding, out: Int, before: Int, after: Int) {
        let g = Conv2DGeometry(batch: 1, height: size, width: size, inChannels: 1, outChannels: 1, kernel: k, stride: s,
            padding: padding)
        #expect(g.outHeight == out && g.outWidth == out)
        #expect(g.padTop == before && g.padBottom == after && g.padLeft == before && g.padRight == after)
    }

    /// Decoder table of §6.3: transposed conv (in, k, s, padding) -> (out, crop before, crop after).
    @Test(arguments: [
        (1, 7, 1, Conv2DGeometry.Padding.valid, 7, 0, 0), (7, 5, 1, .same, 7, 2, 2), (7, 5, 2, .same, 14, 1, 2),
        (14, 5, 1, .same, 14, 2, 2), (14, 5, 2, .same, 28, 1, 2), (28, 4, 1, .same, 28, 1, 2),
    ])
    func decoderShapes(size: Int, k: Int, s: Int, padding: Conv2DGeometry.Padding, out: Int, before: Int, after: Int) {
        let g = Conv2DGeometry.transposed(batch: 1, inHeight: size, inWidth: size, inChannels: 3, outChannels: 2,
            kernel: k, stride: s, padding: padding)
        #expect(g.height == out && g.width == out)
        #expect(g.outHeight == size && g.outWidth == size)
        #expect(g.padTop == before && g.padBottom == after)
        #expect(g.inChannels == 2 && g.outChannels == 3)
    }

    @Test func broadcasting() throws {
        #expect(try Broadcast.shape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(try Broadcast.shape([], [5]) == [5])
        #expect(throws: ComputeError.self) { try Broadcast.shape([2, 3], [4]) }
        #expect(Broadcast.strides(of: [3, 1], in: [2, 3, 4]) == [0, 1, 0])
        #expect(try Broadcast.reducedShape([2, 3, 4], axes: [0, 2]) == [3])
        #expect(throws: ComputeError.self) { try Broadcast.reducedShape([2, 3], axes: [2]) }
        #expect(throws: ComputeError.self) { try Broadcast.reducedShape([2, 3], axes: [1, 1]) }
        #expect(throws: ComputeError.self) { try Broadcast.reducedCount([2, 3], axes: [-1]) }
        #expect(try Broadcast.reducedCount([2, 3, 4], axes: [0, 2]) == 3)
        #expect(try Broadcast.reducedCount([2, 3, 4], axes: [0, 1, 2]) == 1)
        #expect(try Broadcast.reducedCount([2, 3, 4], axes: []) == 24)
    }

    @Test func adamCorrections() {
        let (stepSize, scale) = AdamParameters(learningRate: 0.1, beta1: 0.9, beta2: 0.99).corrections(step: 2)
        #expect(abs(Double(stepSize) - 0.1 / (1 - 0.81)) < 1e-6)
        #expect(abs(Double(scale) - 1 / (1 - 0.9801)) < 1e-4)
    }
}
