import Foundation
@testable import RDLab
import Testing

/// `toy.json`'s R and D are summed from the log tables, so a probability that underflows in
/// `exp` (a confident decoder, log d = −800) still counts with its finite log instead of making
/// D infinite (which `train` could not write: JSON has no infinity).
@Suite("Toy diagnostics")
struct ToyDiagnosticsTests {
    @Test func underflowingProbabilitiesKeepTheirLogs() throws {
        let half = Foundation.log(0.5)
        let diagnostics = ToyDiagnostics(truth: [0.5, 0.5], logEncoder: [half, half, half, half], logMarginal: [half, half],
            logDecoder: [0, -800, -800, 0])
        // D = −Σ_x p(x) Σ_z e(z|x) log d(x|z) = −(½(½·0 + ½·(−800)) + ½(½·(−800) + ½·0)) = 400
        #expect(abs(diagnostics.distortion - 400) < 1e-9)
        #expect(abs(diagnostics.rate) < 1e-12)
        _ = try JSONEncoder().encode(diagnostics)
    }
}
