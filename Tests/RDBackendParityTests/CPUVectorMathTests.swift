import Foundation
import Testing

@testable import RDBackendCPU

/// The CPU backend's 16-lane exp and sigmoid against Double, element by element (the parity
/// suite's normalised error could hide a bad lane or range).
@Suite("CPU vector math")
struct CPUVectorMathTests {
    static func lanes(_ xs: [Float], _ f: (SIMD16<Float>) -> SIMD16<Float>) -> [Float] {
        stride(from: 0, to: xs.count, by: 16).flatMap { start in
            let v = f(SIMD16<Float>((0..<16).map { xs[start + $0] }))
            return (0..<16).map { v[$0] }
        }
    }

    @Test func expIsWithinAFewUlp() {
        let xs = (0..<4096).map { Float(-87 + 175 * Double($0) / 4095) } + [0, -1e-8, 1e-8, 88.7, -87.3, 1, -1, 0.5, -0.5, 3, 7, -20,
            10, 50, -50, 80]
        let values = Self.lanes(xs, SIMD16.exp)
        let worst = zip(xs, values).map { x, v in abs(Double(v) - Foundation.exp(Double(x))) / Foundation.exp(Double(x)) }.max()!
        #expect(worst < 5e-7, "largest relative error \(worst)")
    }

    @Test func sigmoidIsStableAndAccurate() {
        let xs = (0..<4096).map { Float(-100 + 200 * Double($0) / 4095) } + [0, 1e-8, -1e-8, 88, -88, 100, -100, 1000, -1000, 17, -17,
            0.25, -0.25, 30, -30, 5]
        let values = Self.lanes(xs, SIMD16.sigmoid)
        for (x, v) in zip(xs, values) {
            let exact = 1 / (1 + Foundation.exp(-Double(x)))
            #expect(v.isFinite && abs(Double(v) - exact) <= 5e-7 * exact + 1e-37, "sigmoid(\(x)) = \(v), exact \(exact)")
        }
    }
}
