import Foundation
import RDTestSupport
import Testing

/// `rdlab train --model delta` end to end on the static binarized MNIST fixtures: the committed
/// rate as the rate's floor in metrics.jsonl, the auxiliary prior's rate, image grids drawn
/// pixel by pixel, resume, eval, and bad flags.
@Suite("rdlab train --model delta", .serialized)
struct DeltaIntegrationTests {
    static func train(_ extra: [String]) throws -> RDLabProcess.Output {
        try RDLabProcess.run(["train", "--model", "delta", "--data-dir", TestDatasets.fixtures, "--train-limit", "40",
            "--test-limit", "20", "--batch-size", "20", "--seed", "4", "--latent-dim", "2", "--pixelcnn-features", "4",
            "--pixelcnn-resnets", "1", "--auxiliary-hidden", "8"] + extra)
    }

    /// On every backend: two epochs, each train line with the committed rate (δ for 28 rows of
    /// α = 0.5, 0.9: 11.588 nats) as `rate_floor_nats` and a smallest batch rate at or above
    /// it, the auxiliary prior's rate on both splits; on the CPU the image grids too.
    @Test func trainsOnEveryBackendAboveTheCommittedRate() throws {
        let root = try RDLabProcess.temporaryDirectory("delta")
        defer { try? FileManager.default.removeItem(at: root) }
        for backend in ["cpu"] + (RDLabProcess.hasPoCL ? ["opencl:pocl"] : []) {
            let run = root.appendingPathComponent(backend.replacingOccurrences(of: ":", with: "-"))
            let result = try Self.train(["--alpha", "0.5:0.9", "--epochs", "2", "--backend", backend, "--strict-backend",
                "--image-columns", backend == "cpu" ? "1" : "0", "--out", run.path])
            #expect(result.status == 0, "\(backend): \(result.stderr)")
            #expect(result.stderr.contains("committed rate δ = 11.588 nats"), "\(result.stderr)")
            let lines = try HierarchicalIntegrationTests.lines(run)
            #expect(lines.count == 4)
            for line in lines {
                let floor = try #require(line["rate_floor_nats"] as? Double)
                #expect(abs(floor - 11.58832) < 1e-4, "\(floor)")
                #expect(try #require(line["rate_nats"] as? Double) >= floor)
                #expect((line["rate_aux_nats"] as? Double)?.isFinite == true, "\(line)")
                if line["split"] as? String == "train" {
                    #expect(try #require(line["batch_rate_min_nats"] as? Double) >= floor * (1 - 1e-6))
                }
            }
            let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
            #expect(config.contains("\"kind\" : \"delta\"") && config.contains("\"auxiliary_hidden\" : 8"), "\(config)")
            if backend == "cpu" {
                for picture in ["reconstructions.png", "samples.png"] {
                    #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(picture).path), "no \(picture)")
                }
            }
        }
    }

    /// A run stopped in the middle of an epoch (after step 1 of 2) and resumed writes the
    /// metrics of an uninterrupted one — the epoch's smallest batch rate and auxiliary sum
    /// travel in the checkpoint — and `rdlab eval` scores it with an importance-weighted bound.
    @Test func resumesAndEvaluates() throws {
        let root = try RDLabProcess.temporaryDirectory("delta-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), split = root.appendingPathComponent("split")
        let flags = ["--backend", "cpu", "--image-columns", "0", "--epochs", "2"]
        #expect(try Self.train(flags + ["--out", straight.path]).status == 0)
        #expect(try Self.train(flags + ["--max-steps", "1", "--out", split.path]).status == 0)
        let checkpoint = try String(decoding: Data(contentsOf: split.appendingPathComponent("checkpoint.safetensors")),
            as: UTF8.self)
        #expect(checkpoint.contains("epoch_min_batch_rate") && checkpoint.contains("epoch_aux_rate_sum"))
        let resumed = try RDLabProcess.run(["train", "--resume", split.path, "--max-steps", "4", "--backend", "cpu", "--data-dir",
            TestDatasets.fixtures, "--image-columns", "0"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrainIntegrationTests.metrics(split) == TrainIntegrationTests.metrics(straight))
        let eval = try RDLabProcess.run(["eval", "--run", straight.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures,
            "--iwae", "4", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any], "\(eval.stdout)")
        let elbo = try #require(object["neg_elbo_nats"] as? Double), iwae = try #require(object["neg_iwae_nats"] as? Double)
        #expect(iwae.isFinite && iwae < elbo + 5, "−IWAE \(iwae), −ELBO \(elbo)")
        #expect((object["rate_floor_nats"] as? Double).map { abs($0 - 12.56985) < 1e-4 } == true, "\(object)")
        #expect((object["rate_aux_nats"] as? Double)?.isFinite == true, "\(object)")
        let text = try RDLabProcess.run(["eval", "--run", straight.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures])
        #expect(text.stdout.contains("committed rate δ = 12.570 nats") && text.stdout.contains("auxiliary LSTM prior"), "\(text.stdout)")
    }

    /// The δ-VAE's flags are refused elsewhere, and bad values name the flag.
    @Test(arguments: [
        (["--alpha", "0.5:0.9"], "--alpha applies to --model delta, not alemi"),
        (["--model", "delta", "--alpha", "0.5:1.2"], "'0.5:1.2' is invalid for '--alpha <lower:upper>': α's upper end 1.2 must lie strictly between −1 and 1"),
        (["--model", "delta", "--alpha", "0.9:0.5"], "α's lower end 0.9 is above its upper end 0.5"),
        (["--model", "delta", "--latent-dim", "65"], "--latent-dim must be between 1 and 64 latent dimensions per row"),
        (["--model", "delta", "--delta", "5"], "--delta sets the δ channel of --model alemi"),
        (["--model", "delta", "--auxiliary-hidden=-1"], "--auxiliary-hidden must be between 0"),
        (["--model", "delta", "--decoder", "deconv"], "--decoder applies to --model alemi or echo, not delta"),
    ])
    func badFlagsAreNamed(_ flags: [String], _ message: String) throws {
        let result = try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", TestDatasets.fixtures] + flags)
        #expect(result.status != 0 && result.stderr.contains(message), "\(flags): \(result.stderr)")
    }
}
