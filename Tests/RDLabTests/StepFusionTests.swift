import RDCompute
@testable import RDLab
import RDTestSupport
import Testing

/// Which recorded calls ``StepFusion`` fuses: a pass and the ReLU op that alone reads its
/// output, past calls that leave the moved work's buffers alone, and nothing else.
@Suite("Step fusion")
struct StepFusionTests {
    typealias Call = StepRecorder.Call
    static let g = Conv2DGeometry(batch: 1, height: 4, width: 4, inChannels: 2, outChannels: 2, kernel: 3, stride: 1,
        padding: .same)

    /// A call that does nothing when replayed.
    static func call(_ name: String, _ operands: [StepRecorder.Operand], _ role: StepRecorder.FusionRole? = nil) -> Call {
        Call(signature: name, operands: operands, dependence: .none, role: role) { _, _, _ in }
    }

    /// Every made buffer holds one image of `g` (32 floats), input or output.
    static let counts = Array(repeating: 32, count: 10)

    let weights: [DeviceBuffer]
    let bias: DeviceBuffer

    init() throws {
        let backend = AvailableBackends.cpu.backend
        weights = try (0..<2).map { _ in try backend.makeBuffer(count: 18) }
        bias = try backend.makeBuffer(count: 2)
    }

    /// The forward pass of a layer: conv into made(0), bias + ReLU into made(1).
    var forward: [Call] {
        [Self.call("conv", [.made(9), .outside(weights[0]), .made(0)], .imagePass(Self.g, .forward)),
         Self.call("biasReLU", [.made(0), .outside(bias), .made(1)], .biasReLU)]
    }

    @Test func forwardPairFuses() {
        let (calls, pairs) = StepFusion.fused(forward, madeCounts: Self.counts)
        #expect(pairs == 1 && calls.count == 1)
        #expect(calls[0].operands == [.made(9), .outside(weights[0]), .outside(bias), .made(1)])
    }

    /// The layer above's backward-data pass into made(2), its filter gradient reading this
    /// layer's activation made(1), then this layer's ReLU backward pass: the pass takes the
    /// gate, the ReLU op's place the bias gradient.
    @Test func backwardPairFusesPastAFilterGradient() {
        let calls = [
            Self.call("bwd-data", [.made(7), .outside(weights[1]), .made(2)], .imagePass(Self.g, .backwardData)),
            Self.call("bwd-filter", [.made(1), .made(7), .made(3)], .filterGradient),
            Self.call("reluBackward", [.made(1), .made(2), .made(4), .made(5)], .biasReLUBackward),
        ]
        let (fused, pairs) = StepFusion.fused(calls, madeCounts: Self.counts)
        #expect(pairs == 1 && fused.count == 3)
        #expect(fused[0].operands == [.made(7), .outside(weights[1]), .made(1), .made(4)])
        #expect(fused[1].signature == "bwd-filter")
        #expect(fused[2].operands == [.made(4), .made(5)])
    }

    @Test func aSecondReaderKeepsThePassApart() {
        let calls = forward + [Self.call("copy", [.made(0), .made(8)])]
        #expect(StepFusion.fused(calls, madeCounts: Self.counts).pairs == 0)
    }

    @Test func aCallInBetweenThatNamesTheWrittenBufferKeepsThemApart() {
        let calls = [forward[0], Self.call("fill", [.made(1)]), forward[1]]
        #expect(StepFusion.fused(calls, madeCounts: Self.counts).pairs == 0)
    }

    @Test func aCallInBetweenThatMayWriteAReadBufferKeepsThemApart() {
        let calls = [forward[0], Self.call("adam", [.outside(bias)]), forward[1]]
        #expect(StepFusion.fused(calls, madeCounts: Self.counts).pairs == 0)
        let gradient = [forward[0], Self.call("bwd-filter", [.made(6), .made(7), .outside(bias)], .filterGradient),
            forward[1]]
        #expect(StepFusion.fused(gradient, madeCounts: Self.counts).pairs == 0, "a filter gradient that writes the bias")
    }

    /// The fused op adds the pass's channels' biases over exactly its output.
    @Test func anOpOfOtherSizesIsNotFused() throws {
        let scalarBias = try AvailableBackends.cpu.backend.makeBuffer(count: 1)
        let calls = [forward[0], Self.call("biasReLU", [.made(0), .outside(scalarBias), .made(1)], .biasReLU)]
        #expect(StepFusion.fused(calls, madeCounts: Self.counts).pairs == 0, "one bias for every channel")
        var larger = Self.counts
        larger[0] = 64
        #expect(StepFusion.fused(forward, madeCounts: larger).pairs == 0, "a pass output buffer larger than the pass writes")
    }

    @Test func aReLUOfAnotherBufferIsNotFused() {
        let calls = [forward[0], Self.call("biasReLU", [.made(0), .outside(bias), .made(0)], .biasReLU)]
        #expect(StepFusion.fused(calls, madeCounts: Self.counts).pairs == 0, "in place: the pass's output is also the op's")
    }
}
