import ArgumentParser
import Foundation
import RDLab

extension AlphaRange {
    /// `--alpha`'s transform: `lower:upper` or a single α, each in (−1, 1) (see
    /// ``AlphaRange/init(parsing:)``); a bad value's error says which part is wrong.
    static func argument(_ text: String) throws -> AlphaRange {
        do {
            return try AlphaRange(parsing: text)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// `rdlab delta-rate`: the committed rate δ of the δ-VAE's AR(1) prior, or the α that commits
/// a given rate (seed-spec §9.1).
struct DeltaRateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta-rate",
        abstract: "The committed rate δ of a δ-VAE's AR(1) prior, or the single α that commits a given rate.",
        discussion: """
            A latent sequence z_1 … z_n (n = --rows, one step per image row) of d = --dims dimensions, dimension \
            k an AR(1) process z_1 ~ N(0, 1), z_t | z_(t-1) ~ N(α_k z_(t-1), 1 − α_k²). A posterior that is \
            independent over steps pays at least

              δ = ½ Σ_k [ (n − 2) ln(1 + α_k²) − ln(1 − α_k²) ]  nats

            (attained at μ = 0, σ² = 1 − α² at both ends and (1 − α²)/(1 + α²) inside). With --alpha, prints δ in \
            nats and bits for α's linearly spaced over the range; with --rate or --rate-bits, solves for the one α \
            shared by all dimensions that commits that rate (bisection: δ increases with α from 0 at α = 0). \
            Example: --rows 32 --dims 8 --alpha 0.5:0.95 commits 55.07 nats = 79.45 bits.
            """)

    @Option(help: "Sequence length n: latent steps (image rows), at least 2.")
    var rows: Int

    @Option(help: "Latent dimensions d per step, at least 1.")
    var dims: Int

    @Option(help: ArgumentHelp("AR(1) coefficients lower:upper, linearly spaced over the dimensions (one value: all alike); −1 < lower ≤ upper < 1.",
        valueName: "lower:upper"), transform: AlphaRange.argument)
    var alpha: AlphaRange?

    @Option(help: "Solve for the α that commits this rate, in nats (≥ 0).")
    var rate: Double?

    @Option(name: .customLong("rate-bits"), help: "Solve for the α that commits this rate, in bits (≥ 0).")
    var rateBits: Double?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// What the command prints: the prior and its committed rate.
    struct Report: Encodable {
        let rows: Int
        let dims: Int
        let alphas: [Double]
        let rateNats: Double
        let rateBits: Double
    }

    /// What the flags ask for: δ of a range of α's, or the α of a rate.
    enum Target {
        case range(AlphaRange)
        /// The rate in nats, from `flag` given `value`.
        case rate(nats: Double, flag: String, value: Double)
    }

    /// The one target the flags give.
    func target() throws -> Target {
        switch (alpha, rate, rateBits) {
        case (let alpha?, nil, nil): return .range(alpha)
        case (nil, let rate?, nil): return .rate(nats: rate, flag: "--rate", value: rate)
        case (nil, nil, let bits?): return .rate(nats: bits * log(2), flag: "--rate-bits", value: bits)
        case (nil, nil, nil): throw ValidationError("give --alpha (to compute δ) or --rate / --rate-bits (to solve for α)")
        default:
            let given = [("--alpha", alpha != nil), ("--rate", rate != nil), ("--rate-bits", rateBits != nil)].filter(\.1)
            throw ValidationError("\(given.map(\.0).joined(separator: " and ")) are alternatives: give one")
        }
    }

    /// The prior of `--alpha`, or the single α that commits `--rate` (`--rate-bits`).
    func prior() throws -> AR1Prior {
        switch try target() {
        case .range(let range):
            return range.prior(dimensions: dims)
        case .rate(let nats, let flag, let value):
            do {
                let alpha = try AR1Prior.alpha(forRate: nats, steps: rows, dimensions: dims)
                return AR1Prior(alphas: [Double](repeating: alpha, count: dims))
            } catch {
                throw ValidationError("\(flag) \(value): \(error)")
            }
        }
    }

    /// Bounds that keep the α list and the sums small whatever the flags say.
    static let largestDims = 1 << 20, largestRows = 1 << 30

    func validate() throws {
        guard rows >= 2 else { throw ValidationError("--rows must be at least 2: an AR(1) prior needs two steps (got \(rows))") }
        guard (1...Self.largestDims).contains(dims) else {
            throw ValidationError("--dims must be between 1 and \(Self.largestDims) (got \(dims))")
        }
        guard rows <= Self.largestRows else { throw ValidationError("--rows must be at most \(Self.largestRows) (got \(rows))") }
        _ = try prior()
    }

    func run() throws {
        let prior = try self.prior()
        let nats = prior.committedRate(steps: rows)
        let report = Report(rows: rows, dims: dims, alphas: prior.alphas, rateNats: nats, rateBits: nats / log(2))
        if json {
            print(String(decoding: try JSONEncoder.rdlab(pretty: false).encode(report), as: UTF8.self))
            return
        }
        let alphas = prior.alphas.map { String(format: "%.6g", $0) }
        print(Set(alphas).count == 1
            ? "α = \(alphas[0]) (\(dims == 1 ? "1 dimension" : "all \(dims) dimensions"))"
            : "α = \(alphas.joined(separator: " ")) (linearly spaced over \(dims) dimensions)")
        print(String(format: "δ = %.6g nats = %.6g bits over n = %d steps", report.rateNats, report.rateBits, rows))
    }
}
