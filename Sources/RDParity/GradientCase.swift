import RDCompute

/// A finite-difference check of one backward op on a backend: the op's gradient of the scalar
/// loss L = ⟨r, f(x)⟩ (r a fixed upstream gradient, f the op's own forward on the same backend)
/// against the central difference (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h at chosen coordinates i.
/// The gradient tests and `rdlab selftest` run these same cases through ``GradientRunner``.
public struct GradientCase: Sendable {
    /// The backward op under test: what `--op` matches and the report groups by. GEMM's
    /// backward is GEMM with transposes, so its check names ``Op/gemm``.
    public let op: Op
    /// Every op the check calls, `op` and the forward it differentiates: a backend lacking one
    /// is UNSUPPORTED for this case.
    public let requires: [Op]
    public let name: String
    /// The step h of the central differences.
    public let step: Float
    /// Largest accepted |analytic − numeric| / max(1, |numeric|) at any coordinate.
    public let tolerance: Double
    /// Runs the backward and the differences on a backend with step h.
    public let run: @Sendable (_ backend: any Backend, _ h: Float) throws -> [GradientProbe]

    init(_ op: Op, forward: [Op], name: String, step: Float, tolerance: Double,
        run: @escaping @Sendable (_ backend: any Backend, _ h: Float) throws -> [GradientProbe]) {
        self.op = op
        self.requires = [op] + forward.filter { $0 != op }
        self.name = name
        self.step = step
        self.tolerance = tolerance
        self.run = run
    }

    /// The linear ops (step 0.25: L is linear in each input, so only rounding is left) and
    /// echo (step 0.01).
    public static let linear: Double = 2e-3
    /// The elementwise ops and the losses (step 0.01, truncation error O(h²) on curved functions).
    public static let curved: Double = 5e-3

    public static var all: [GradientCase] { linearCases + unaryCases + lossCases + echoCases + maskedCases }
}

/// One checked coordinate: the backward op's value there and the central difference.
public struct GradientProbe: Sendable {
    /// Which gradient and coordinate, e.g. `dx[3]`.
    public let coordinate: String
    public let analytic: Float
    public let numeric: Double
    /// A masked weight: analytic and numeric must both be exactly 0, not merely close.
    public let structuralZero: Bool

    public init(_ coordinate: String, analytic: Float, numeric: Double, structuralZero: Bool = false) {
        self.coordinate = coordinate
        self.analytic = analytic
        self.numeric = numeric
        self.structuralZero = structuralZero
    }

    /// |analytic − numeric| / max(1, |numeric|): relative for large gradients, absolute for small.
    public var relativeError: Double { abs(Double(analytic) - numeric) / max(1, abs(numeric)) }

    /// Within `tolerance`, and exactly zero on both sides where ``structuralZero``.
    public func passes(_ tolerance: Double) -> Bool {
        relativeError <= tolerance && (!structuralZero || (analytic == 0 && numeric == 0))
    }
}
