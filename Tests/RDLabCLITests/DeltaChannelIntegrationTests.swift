import Foundation
import RDTestSupport
import Testing

/// `rdlab train --channel delta` end to end on the binarized MNIST fixtures: the committed
/// rate logged and kept, the channel in config.json, `rdlab eval` of the run; its flags'
/// errors.
@Suite("rdlab train --channel delta", .serialized)
struct DeltaChannelIntegrationTests {
    @Test func trainsAndEvaluates() throws {
        let root = try RDLabProcess.temporaryDirectory("delta")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let result = try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--train-limit", "16",
            "--test-limit", "8", "--batch-size", "8", "--latent-dim", "8", "--max-steps", "2", "--image-columns", "0", "--seed", "3",
            "--channel", "delta", "--delta", "0.5", "--out", run.path])
        #expect(result.status == 0, "\(result.stderr)")
        for text in ["family δ--", "every latent dimension pays KL ≥ δ = 0.5 nats", "committed 8 × 0.5 = 4 nats",
            "σ ∈ [0.39824, 1.77375]"] {
            #expect(result.stderr.contains(text), "the log lacks \(text): \(result.stderr)")
        }
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let rate = try #require(object["rate_nats"] as? Double), floor = try #require(object["rate_floor_nats"] as? Double)
            #expect(floor == 4 && rate >= floor - 1e-5 && object["family"] as? String == "δ--", "\(line)")
        }
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["\"channel\" : \"delta\"", "\"delta\" : 0.5", "\"family\" : \"δ--\""] {
            #expect(config.contains(key), "config.json lacks \(key)")
        }
        let eval = try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures,
            "--iwae", "5"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("IWAE bound, K = 5") && eval.stdout.contains("channel delta"), "\(eval.stdout)")
    }

    @Test func badFlagsAreNamed() throws {
        let cases: [([String], String)] = [
            (["--delta", "0.2"], "--delta sets the committed rate of --channel delta"),
            (["--channel", "delta", "--marginal", "maf"], "--channel delta commits the rate against N(0, I): use --marginal normal"),
            (["--channel", "delta", "--encoder", "iaf"], "use --encoder gaussian, not iaf"),
            (["--channel", "delta", "--delta", "0"], "--delta must be a number of nats per latent dimension in (0, 10]"),
            (["--model", "echo", "--channel", "delta"], "--channel applies to --model alemi, not echo"),
            (["--channel", "echo"], "The Echo channel is --model echo"),
        ]
        for (flags, message) in cases {
            let result = try RDLabProcess.run(["train"] + flags)
            #expect(result.status != 0 && result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
