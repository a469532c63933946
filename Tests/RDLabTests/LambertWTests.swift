import Foundation
import RDLab
import Testing

/// Both real branches of W on [−1/e, 0): the defining equation over a log-spaced grid, the
/// branch point, known values, the domain.
@Suite("Lambert W")
struct LambertWTests {
    /// −10^k for k from −300 to log₁₀(1/e) in steps of 1/8, the points just right of −1/e,
    /// and −1/e itself.
    static let grid: [Double] = stride(from: -300.0, through: log10(exp(-1.0)), by: 0.125).map { -pow(10, $0) }
        + (1...60).map { LambertW.branchPoint + pow(2, -Double($0)) * 0.1 } + [LambertW.branchPoint]

    /// w·eʷ = x to a few ulps of x times max(1, |w|) (the rounding of w moves eʷ by |w|·ε).
    @Test(arguments: LambertW.Branch.allCases)
    func solvesTheDefiningEquation(_ branch: LambertW.Branch) throws {
        for x in Self.grid {
            let w = try #require(LambertW.value(x, branch: branch), "no value at \(x)")
            let residual = abs(w * exp(w) - x) / (abs(x) * max(1, abs(w)))
            #expect(residual <= 1e-15, "\(branch) at x = \(x): w = \(w), relative residual \(residual)")
            #expect(branch == .principal ? (-1...0).contains(w) : w <= -1, "\(branch) at x = \(x): w = \(w) on the wrong branch")
        }
    }

    @Test func knownValues() throws {
        let cases: [(x: Double, branch: LambertW.Branch, w: Double)] = [
            (-0.1, .principal, -0.11183255915896297), (-0.1, .lower, -3.577152063957297),
            (-0.3, .principal, -0.4894022271802149), (-0.3, .lower, -1.7813370234216277),
            (-1e-10, .lower, -26.295238819246925), (-1e-10, .principal, -1.0000000001e-10),
        ]
        for c in cases {
            let w = try #require(LambertW.value(c.x, branch: c.branch))
            #expect(abs(w - c.w) <= 4 * c.w.ulp, "W(\(c.x)) on \(c.branch): \(w), expected \(c.w)")
        }
    }

    /// Both branches are −1 at −1/e and leave it as −1 ± √(2(1 + e·x)). The Double nearest
    /// −1/e lies about 7·10⁻¹⁸ above it, where the branches are −1 ± 6·10⁻⁹.
    @Test func branchPoint() throws {
        for branch in LambertW.Branch.allCases {
            let w = try #require(LambertW.value(LambertW.branchPoint, branch: branch))
            #expect(abs(w + 1) < 1e-8 && (branch == .principal) == (w >= -1), "\(branch) at −1/e: \(w)")
        }
        let x = LambertW.branchPoint + 1e-12
        let p = (2 * (1 + exp(1) * x)).squareRoot()
        let upper = try #require(LambertW.value(x, branch: .principal)), lower = try #require(LambertW.value(x, branch: .lower))
        #expect(abs(upper - (-1 + p)) < 1e-10 && abs(lower - (-1 - p)) < 1e-10, "\(upper), \(lower) around −1 ± \(p)")
        #expect(LambertW.value(0, branch: .principal) == 0)
    }

    @Test func outsideTheDomainIsNil() {
        for x in [LambertW.branchPoint - 1e-6, -1, .nan, -.infinity] {
            for branch in LambertW.Branch.allCases { #expect(LambertW.value(x, branch: branch) == nil, "\(x) on \(branch)") }
        }
        #expect(LambertW.value(0, branch: .lower) == nil)
        #expect(LambertW.value(1e-3, branch: .principal) == nil)
    }
}
