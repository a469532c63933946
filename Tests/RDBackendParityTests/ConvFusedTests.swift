import Foundation
import RDCompute
import RDParity
import RDTestSupport
import Testing

/// ``Backend/conv2dFused(_:pass:input:filter:epilogue:output:)`` is its pass and then the
/// elementwise op, bit for bit, on every backend and conv geometry of the parity suite (what a
/// step plan that fuses them relies on), and it refuses operands of the wrong size.
@Suite("Fused conv passes")
struct ConvFusedTests {
    /// The fused op's output, and the pass's followed by `biasReLU` or `biasReLUBackward`'s gradInput.
    static func both(_ b: any Backend, _ g: Conv2DGeometry, _ pass: Conv2DImagePass, gate: Bool, seed: UInt64) throws
        -> (fused: [Float], separate: [Float]) {
        var data = TestData(seed: seed)
        let (inCount, outCount) = pass.counts(g)
        let input = try b.makeBuffer(data.values(inCount)), filter = try b.makeBuffer(data.values(g.filterCount))
        // an activation with zeros where a ReLU cut, and a bias that makes some sums negative
        let operand = try b.makeBuffer(gate ? data.values(outCount).map { max($0, 0) }
            : data.values(pass.outputChannels(g)))
        let fused = try b.makeBuffer(count: outCount), plain = try b.makeBuffer(count: outCount)
        let separate = try b.makeBuffer(count: outCount)
        try b.conv2dFused(g, pass: pass, input: input, filter: filter,
            epilogue: gate ? .reluGate(activation: operand) : .biasReLU(bias: operand), output: fused)
        switch pass {
        case .forward: try b.conv2dForward(g, input: input, filter: filter, output: plain)
        case .backwardData: try b.conv2dBackwardData(g, gradOutput: input, filter: filter, gradInput: plain)
        }
        if gate {
            try b.biasReLUBackward(output: operand, gradOutput: plain, gradInput: separate,
                gradBias: try b.makeBuffer(count: pass.outputChannels(g)))
        } else {
            try b.biasReLU(plain, bias: operand, output: separate)
        }
        return (try b.download(fused), try b.download(separate))
    }

    @Test(arguments: AvailableBackends.all)
    func fusedEqualsPassThenOp(_ target: BackendUnderTest) throws {
        for (index, g) in ParityCase.geometries.enumerated() {
            for pass in Conv2DImagePass.allCases {
                for gate in [false, true] {
                    let run = try Self.both(target.backend, g, pass, gate: gate, seed: UInt64(500 + index))
                    let differing = zip(run.fused, run.separate).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "\(pass) \(gate ? "gate" : "bias ReLU") \(g): \(differing) elements differ")
                }
            }
        }
    }

    /// The reference VAE's layers at batch 3 (the paths the training step takes: implicit GEMM
    /// by tiles and by images, Winograd, 8×8 Winograd, phases, the flipped forward).
    @Test(arguments: AvailableBackends.all)
    func referenceLayersFuseExactly(_ target: BackendUnderTest) throws {
        let layers: [(Conv2DGeometry, Conv2DImagePass)] = [
            (Conv2DGeometry(batch: 3, height: 28, width: 28, inChannels: 1, outChannels: 32, kernel: 5, stride: 1, padding: .same), .forward),
            (Conv2DGeometry(batch: 3, height: 28, width: 28, inChannels: 32, outChannels: 32, kernel: 5, stride: 2, padding: .same), .forward),
            (Conv2DGeometry(batch: 3, height: 14, width: 14, inChannels: 32, outChannels: 64, kernel: 5, stride: 1, padding: .same), .forward),
            (Conv2DGeometry(batch: 3, height: 28, width: 28, inChannels: 32, outChannels: 32, kernel: 5, stride: 2, padding: .same), .backwardData),
            (Conv2DGeometry(batch: 3, height: 14, width: 14, inChannels: 64, outChannels: 32, kernel: 5, stride: 1, padding: .same), .backwardData),
            (Conv2DGeometry(batch: 3, height: 28, width: 28, inChannels: 32, outChannels: 32, kernel: 4, stride: 1, padding: .same), .backwardData),
        ]
        for (index, (g, pass)) in layers.enumerated() {
            for gate in [false, true] {
                let run = try Self.both(target.backend, g, pass, gate: gate, seed: UInt64(600 + index))
                #expect(run.fused.map(\.bitPattern) == run.separate.map(\.bitPattern), "\(pass) \(gate) \(g)")
                #expect(run.fused.contains(0) && run.fused.contains { $0 > 0 }, "the ReLU cuts some elements and keeps others")
            }
        }
    }

    @Test(arguments: AvailableBackends.all)
    func wrongSizesAreRefused(_ target: BackendUnderTest) throws {
        let b = target.backend
        let g = Conv2DGeometry(batch: 2, height: 6, width: 6, inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: .same)
        let input = try b.makeBuffer(count: g.inputCount), filter = try b.makeBuffer(count: g.filterCount)
        let output = try b.makeBuffer(count: g.outputCount)
        #expect(throws: ComputeError.self) {
            try b.conv2dFused(g, pass: .forward, input: input, filter: filter,
                epilogue: .biasReLU(bias: try b.makeBuffer(count: 3)), output: output)
        }
        #expect(throws: ComputeError.self) {
            try b.conv2dFused(g, pass: .forward, input: input, filter: filter,
                epilogue: .reluGate(activation: try b.makeBuffer(count: g.outputCount - 1)), output: output)
        }
        #expect(throws: ComputeError.self) {
            try b.conv2dFused(g, pass: .backwardData, input: input, filter: filter,
                epilogue: .biasReLU(bias: try b.makeBuffer(count: 3)), output: output)
        }
    }
}
