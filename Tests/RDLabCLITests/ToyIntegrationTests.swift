import Foundation
import RDTestSupport
import Testing

/// Alemi's two toy results from the command line (`rdlab train --model toy`), with the
/// diagnostics files and the metrics of a target-rate run.
@Suite("rdlab train --model toy", .serialized)
struct ToyIntegrationTests {
    static func lastTestLine(_ run: URL) throws -> [String: Any] {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        return try #require(objects.last { $0["split"] as? String == "test" })
    }

    @Test func elboAndTargetRateRuns() throws {
        let root = try RDLabProcess.temporaryDirectory("toy")
        defer { try? FileManager.default.removeItem(at: root) }
        let elbo = root.appendingPathComponent("elbo"), targeted = root.appendingPathComponent("target")
        let plain = try RDLabProcess.run(["train", "--model", "toy", "--backend", "cpu", "--seed", "1", "--out", elbo.path])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stderr.contains("H(x) = 3.018393 nats") && plain.stderr.contains("150 parameters"))
        let rate = try #require(try Self.lastTestLine(elbo)["rate_nats"] as? Double)
        #expect(rate < 0.01, "ELBO run: R \(rate)")

        let result = try RDLabProcess.run(["train", "--model", "toy", "--backend", "cpu", "--seed", "1", "--target-rate", "0.5",
            "--out", targeted.path])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try Self.lastTestLine(targeted)
        let r = try #require(line["rate_nats"] as? Double), d = try #require(line["distortion_nats"] as? Double)
        #expect(abs(r - 0.5) < 0.01 && d < 3.018393 - 0.49, "target run: R \(r) D \(d)")
        #expect((line["rates_nats"] as? [String: Double])?["z"] == r)
        let lambda = try #require((line["betas"] as? [String: Double])?["z"])
        #expect(abs(lambda - 1) < 0.05, "λ \(lambda) (the frontier's slope is −1)")
        let diagnostics = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: targeted.appendingPathComponent("toy.json")))
            as? [String: Any])
        let masses = try #require(diagnostics["aggregate_posterior"] as? [Double]).sorted(by: >)
        #expect(masses[0] + masses[1] > 0.95 && abs(masses[0] - 0.7) < 0.05, "e(z) \(masses.prefix(3))")
        #expect((diagnostics["truth"] as? [Double])?.count == 30 && (diagnostics["kernel"] as? [[Double]])?.count == 30)
        let png = try Data(contentsOf: targeted.appendingPathComponent("toy.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let config = try String(contentsOf: targeted.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["\"kind\" : \"toy\"", "\"kind\" : \"target-rate\"", "\"dataset\" : \"alemi-toy-30\""] {
            #expect(config.contains(key), "config.json lacks \(key)")
        }
        let eval = try RDLabProcess.run(["eval", "--run", targeted.path, "--backend", "cpu"])
        #expect(eval.status == 0 && eval.stdout.contains("alemi-toy-30 test (30 examples"), "\(eval.stdout) \(eval.stderr)")
    }
}
