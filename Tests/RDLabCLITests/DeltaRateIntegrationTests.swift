import Foundation
import Testing

/// `rdlab delta-rate` as a user runs it: the committed rates of seed-spec C4/C5, the α of a
/// rate, JSON, and the errors for bad flags.
@Suite("rdlab delta-rate")
struct DeltaRateIntegrationTests {
    /// The JSON document `--json` prints.
    struct Report: Decodable {
        let rows, dims: Int
        let alphas: [Double]
        let rateNats, rateBits: Double
    }

    static func report(_ flags: [String]) throws -> Report {
        let out = try RDLabProcess.run(["delta-rate", "--json"] + flags)
        #expect(out.status == 0, "\(out.stderr)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(out.stdout.utf8))
    }

    /// C4 and C5: n = 32 with α = 0.5 … 0.95 over 8 dimensions and 0.5 … 0.99 over 64.
    @Test func committedRatesOfThePaper() throws {
        let c4 = try RDLabProcess.run(["delta-rate", "--rows", "32", "--dims", "8", "--alpha", "0.5:0.95"])
        #expect(c4.status == 0, "\(c4.stderr)")
        #expect(c4.stdout.contains("55.0686 nats = 79.4472 bits"), "\(c4.stdout)")
        #expect(c4.stdout.contains("α = 0.5 0.564286"), "\(c4.stdout)")
        let c5 = try Self.report(["--rows", "32", "--dims", "64", "--alpha", "0.5:0.99"])
        #expect(c5.alphas.count == 64 && c5.alphas.first == 0.5 && c5.alphas.last == 0.99)
        #expect(abs(c5.rateBits - 666.63) < 5e-3 && abs(c5.rateNats - 462.072) < 5e-4)
        #expect(c5.rows == 32 && c5.dims == 64)
        #expect(abs(try Self.report(["--rows", "32", "--dims", "8", "--alpha", "0.5:0.95"]).rateBits - 79.447) < 5e-4)
    }

    /// A rate in nats or bits gives the one α that commits it.
    @Test func solvesForAlpha() throws {
        let text = try RDLabProcess.run(["delta-rate", "--rows", "28", "--dims", "8", "--rate", "10"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("α = 0.310859 (all 8 dimensions)") && text.stdout.contains("δ = 10 nats"), "\(text.stdout)")
        let nats = try Self.report(["--rows", "32", "--dims", "1", "--rate", "5"])
        #expect(abs(nats.alphas[0] - 0.61155) < 5e-6 && abs(nats.rateNats - 5) < 1e-12)
        let bits = try Self.report(["--rows", "32", "--dims", "1", "--rate-bits", "\(5 / log(2.0))"])
        #expect(abs(bits.alphas[0] - nats.alphas[0]) < 1e-12)
    }

    @Test(arguments: [
        (["--rows", "1", "--dims", "8", "--alpha", "0.5"], "--rows must be at least 2"),
        (["--rows", "28", "--dims", "0", "--alpha", "0.5"], "--dims must be between 1 and 1048576"),
        (["--rows", "28", "--dims", "100000000000", "--alpha", "0.5"], "--dims must be between 1 and 1048576"),
        (["--rows", "28", "--dims", "8", "--alpha", "1.2"], "'1.2' is invalid for '--alpha <lower:upper>': α's lower end 1.2 must lie strictly between −1 and 1"),
        (["--rows", "28", "--dims", "8", "--alpha", "0.9:0.5"], "α's lower end 0.9 is above its upper end 0.5"),
        (["--rows", "28", "--dims", "8", "--alpha", "0.5:0.99999999"], "at most 0.999999 in size"),
        (["--rows", "28", "--dims", "8", "--rate", "1e5"], "--rate 100000.0: 100000.0 nats is beyond reach"),
        (["--rows", "28", "--dims", "8", "--rate=-1"], "--rate -1.0: a committed rate must be a finite number of nats ≥ 0"),
        (["--rows", "28", "--dims", "8", "--alpha", "0.5", "--rate", "3"], "--alpha and --rate are alternatives"),
        (["--rows", "28", "--dims", "8"], "give --alpha (to compute δ) or --rate"),
    ])
    func badFlagsAreUsageErrors(_ flags: [String], _ message: String) throws {
        let out = try RDLabProcess.run(["delta-rate"] + flags)
        #expect(out.status == 64, "\(flags): status \(out.status)")
        #expect(out.stderr.contains(message), "\(flags): \(out.stderr)")
        #expect(out.stdout.isEmpty)
    }
}
