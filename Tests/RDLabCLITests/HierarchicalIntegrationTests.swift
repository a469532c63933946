import Foundation
import RDTestSupport
import Testing

/// `rdlab train --model hierarchical` and `rdlab eval --probes` end to end on the MNIST
/// fixtures (200 train, 100 test images with labels).
@Suite("rdlab train/eval hierarchical", .serialized)
struct HierarchicalIntegrationTests {
    static func train(_ extra: [String]) throws -> RDLabProcess.Output {
        try RDLabProcess.run(["train", "--model", "hierarchical", "--data-dir", TestDatasets.fixtures, "--train-limit", "100",
            "--test-limit", "100", "--batch-size", "50", "--seed", "3", "--image-columns", "0"] + extra)
    }

    static func lines(_ run: URL) throws -> [[String: Any]] {
        try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Both variants on every backend: per-layer rates and β in metrics.jsonl, HIT's protocol
    /// in config.json (mnist rounded at 0.5), the LVAE's warm-up over 10 // 5 = 2 epochs
    /// (factors 0, ½, then 1).
    @Test func bothVariantsTrainOnEveryBackend() throws {
        let root = try RDLabProcess.temporaryDirectory("hit")
        defer { try? FileManager.default.removeItem(at: root) }
        for backend in ["cpu"] + (RDLabProcess.hasPoCL ? ["opencl:pocl"] : []) {
            for hierarchy in ["ghvae", "lvae"] {
                let run = root.appendingPathComponent("\(hierarchy)-\(backend.replacingOccurrences(of: ":", with: "-"))")
                let result = try Self.train(["--hierarchy", hierarchy, "--beta1", "0.5", "--beta2", "2", "--epochs", "10",
                    "--backend", backend, "--strict-backend", "--out", run.path])
                #expect(result.status == 0, "\(hierarchy) on \(backend): \(result.stderr)")
                let lines = try Self.lines(run)
                #expect(lines.count == 20)
                for line in lines {
                    let rates = try #require(line["rates_nats"] as? [String: Double])
                    #expect(Set(rates.keys) == ["z1", "z2"] && rates.values.allSatisfy { $0.isFinite && $0 >= 0 }, "\(rates)")
                    let betas = try #require(line["betas"] as? [String: Double])
                    let epoch = line["epoch"] as? Int ?? 0
                    let warm = hierarchy == "lvae" ? min(1, Double(epoch - 1) / 2) : 1
                    #expect(betas == ["z1": 0.5 * warm, "z2": 2 * warm], "\(hierarchy) epoch \(line["epoch"] ?? 0): \(betas)")
                }
                let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
                for key in ["\"kind\" : \"hierarchical\"", "\"inference\" : \"\(hierarchy)\"", "\"dataset\" : \"mnist\"",
                    "\"binarize\" : \"threshold\"", "\"z1\"", "\"z2\""] {
                    #expect(config.contains(key), "\(hierarchy): config.json lacks \(key)")
                }
                #expect(config.contains("\"warm_up\"") == (hierarchy == "lvae"))
                #expect(result.stderr.contains("parameters"))
            }
        }
    }

    /// A run stopped after one epoch and resumed gives the metrics of an uninterrupted one
    /// (parameters, Adam state, and the warm-up's position by epoch from the checkpoint).
    @Test func resumedRunMatchesAnUninterruptedOne() throws {
        let root = try RDLabProcess.temporaryDirectory("hit-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), split = root.appendingPathComponent("split")
        let flags = ["--hierarchy", "lvae", "--kl-warmup-epochs", "2", "--backend", "cpu"]
        #expect(try Self.train(flags + ["--epochs", "2", "--out", straight.path]).status == 0)
        #expect(try Self.train(flags + ["--epochs", "1", "--out", split.path]).status == 0)
        let resumed = try RDLabProcess.run(["train", "--resume", split.path, "--epochs", "2", "--backend", "cpu", "--data-dir",
            TestDatasets.fixtures, "--image-columns", "0"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TrainIntegrationTests.metrics(split) == TrainIntegrationTests.metrics(straight))
        #expect(try Self.lines(straight).map { ($0["betas"] as? [String: Double])?["z1"] } == [0, 0, 0.5, 0.5])
    }

    /// `eval --probes`: PSNR, per-layer accuracies on means and samples with the bound, as text
    /// and as JSON; clear errors for a dataset without labels and a model without layers.
    @Test func probesReportAccuraciesAndTheBound() throws {
        let root = try RDLabProcess.temporaryDirectory("probes")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        #expect(try Self.train(["--epochs", "2", "--backend", "cpu", "--out", run.path]).status == 0)
        let text = try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--probes"])
        #expect(text.status == 0, "\(text.stderr)")
        for expected in ["PSNR", "probes fitted on 80, scored on 20", "z1     mean", "z2     sample", "bound"] {
            #expect(text.stdout.contains(expected), "eval --probes lacks \(expected): \(text.stdout)")
        }
        let json = try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--probes",
            "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        let probes = try #require(object["probes"] as? [String: Any])
        #expect((probes["psnr_decibels"] as? Double).map { $0 > 0 } == true)
        for key in ["layers", "sampled_layers"] {
            let layers = try #require(probes[key] as? [[String: Any]])
            #expect(layers.map { $0["layer"] as? String } == ["z1", "z2"])
            for layer in layers {
                let bound = try #require(layer["bound_accuracy"] as? Double), rate = try #require(layer["rate_nats"] as? Double)
                #expect(bound >= 0.1 - 1e-9 && bound <= 1 && rate >= 0, "\(layer)")
                for accuracy in ["logistic_accuracy", "nearest_neighbour_accuracy", "chance_accuracy"] {
                    #expect((layer[accuracy] as? Double).map { (0...1).contains($0) } == true, "\(key) \(accuracy)")
                }
            }
        }
        let unlabelled = try RDLabProcess.run(["eval", "--checkpoint", run.appendingPathComponent("checkpoint.safetensors").path,
            "--dataset", "binarized-mnist", "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--probes"])
        #expect(unlabelled.status == 1 && unlabelled.stderr.contains("--probes needs class labels: binarized-mnist has none"),
            "\(unlabelled.stderr)")
        let flat = root.appendingPathComponent("flat")
        #expect(try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--train-limit", "50",
            "--test-limit", "50", "--batch-size", "50", "--latent-dim", "4", "--max-steps", "1", "--image-columns", "0",
            "--out", flat.path]).status == 0)
        let single = try RDLabProcess.run(["eval", "--run", flat.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--probes"])
        #expect(single.status == 1 && single.stderr.contains("holds a alemi model; train one with --model hierarchical"), "\(single.stderr)")
    }

    /// Flags of other models, and per-layer β beside a target rate, are refused by name.
    @Test(arguments: [
        (["--hierarchy", "lvae"], "--hierarchy applies to --model hierarchical, not alemi"),
        (["--model", "hierarchical", "--activation", "gated"], "--activation applies to --model alemi or echo, not hierarchical"),
        (["--model", "hierarchical", "--beta1", "1", "--target-rate", "5"], "--beta1 and --beta2 weigh the layers' rates"),
        (["--model", "hierarchical", "--beta2=-1"], "--beta2 must be a finite number ≥ 0"),
        (["--model", "hierarchical", "--channels", "0"], "--channels must be between 1 and 512"),
        (["--model", "hierarchical", "--kl-warmup-epochs=-2"], "--kl-warmup-epochs must be 0 (none) or more"),
        (["--model", "hierarchical", "--hierarchy", "lvae", "--target-rate", "3", "--kl-warmup-epochs", "2"], "--kl-warmup-epochs scales constant or annealed β"),
    ])
    func badFlagsAreNamed(_ flags: [String], _ message: String) throws {
        let result = try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", TestDatasets.fixtures] + flags)
        #expect(result.status != 0 && result.stderr.contains(message), "\(flags): \(result.stderr)")
    }
}
