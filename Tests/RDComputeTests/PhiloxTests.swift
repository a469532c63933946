import Foundation
import Testing

@testable import RDCompute

@Suite("Philox-4x32-10")
struct PhiloxTests {
    /// Random123's kat_vectors: counter[4] key[2] -> output[4].
    @Test(arguments: [
        ([0, 0, 0, 0], [0, 0], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff], [0xffff_ffff, 0xffff_ffff],
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        ([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]),
    ] as [([UInt32], [UInt32], [UInt32])])
    func knownAnswers(counter: [UInt32], key: [UInt32], expected: [UInt32]) {
        let out = Philox.block(counter: SIMD4(counter[0], counter[1], counter[2], counter[3]), key: SIMD2(key[0], key[1]))
        #expect([out[0], out[1], out[2], out[3]] == expected)
    }

    @Test func counterAndKeyLayout() {
        #expect(Philox.counter(block: 0x1_0000_0002, stream: 0x3_0000_0004) == SIMD4(2, 1, 4, 3))
        #expect(Philox.key(seed: 0x5_0000_0006) == SIMD2(6, 5))
    }

    @Test func uniformRange() {
        #expect(Philox.uniform(0) == 0)
        #expect(Philox.uniform(.max) == 1 - 0x1p-24)
    }

    /// The portable log and sin/cos used for Box–Muller are accurate to a few ulps.
    @Test func transcendentalsAreAccurate() {
        var worstLog = 0.0
        for k in stride(from: UInt32(1), through: 1 << 24, by: 997) {
            let u = Float(k) * 0x1p-24
            worstLog = max(worstLog, abs(Double(Philox.log(u)) - Foundation.log(Double(u))) / max(1, abs(Foundation.log(Double(u)))))
        }
        #expect(worstLog < 1e-6)
        var worstTrig = 0.0
        for k in stride(from: UInt32(0), to: 1 << 24, by: 1009) {
            let angle = 2 * Double.pi * Double(k) / Double(1 << 24)
            let (s, c) = Philox.sinCosTurn(k)
            worstTrig = max(worstTrig, abs(Double(s) - sin(angle)), abs(Double(c) - cos(angle)))
        }
        #expect(worstTrig < 1e-6)
    }

    /// Box–Muller output has the moments of N(0, 1) (200 000 draws; bounds are 5+ standard errors).
    @Test func normalMoments() {
        var sum = 0.0, sumSquares = 0.0, sumFourth = 0.0
        let blocks = 50_000
        for j in 0..<blocks {
            let w = Philox.block(counter: Philox.counter(block: UInt64(j), stream: 9), key: Philox.key(seed: 1234))
            let (a, b) = Philox.normalPair(w[0], w[1])
            let (c, d) = Philox.normalPair(w[2], w[3])
            for z in [a, b, c, d] {
                let x = Double(z)
                sum += x
                sumSquares += x * x
                sumFourth += x * x * x * x
            }
        }
        let n = Double(blocks * 4)
        #expect(abs(sum / n) < 0.012)
        #expect(abs(sumSquares / n - 1) < 0.02)
        #expect(abs(sumFourth / n - 3) < 0.12)
    }
}
