import Foundation
import RDTestSupport
import Testing

/// `rdlab train` / `rdlab eval` end to end on the static binarized MNIST fixtures.
@Suite("rdlab train and eval", .serialized)
struct TrainIntegrationTests {
    static let dataDirectory = TestDatasets.fixtures

    static func train(_ extra: [String], environment: [String: String?] = [:]) throws -> RDLabProcess.Output {
        try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", dataDirectory, "--train-limit", "100",
            "--test-limit", "50", "--batch-size", "50", "--latent-dim", "8", "--seed", "4"] + extra, environment: environment)
    }

    /// metrics.jsonl without the timing fields; a line that is not a JSON object is kept as
    /// it is (so a comparison fails rather than the test process).
    static func metrics(_ run: URL) throws -> [String] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard var object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return String(line) }
            object["seconds"] = nil
            object["examples_per_second"] = nil
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    @Test func resumedRunMatchesAnUninterruptedOne() throws {
        let root = try RDLabProcess.temporaryDirectory("train")
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight"), split = root.appendingPathComponent("split")
        let full = try Self.train(["--epochs", "2", "--out", straight.path])
        #expect(full.status == 0, "\(full.stderr)")
        for file in ["config.json", "metrics.jsonl", "checkpoint.safetensors", "reconstructions.png", "samples.png"] {
            #expect(FileManager.default.fileExists(atPath: straight.appendingPathComponent(file).path), "\(file) missing")
        }
        let first = try Self.train(["--epochs", "1", "--out", split.path])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try RDLabProcess.run(["train", "--resume", split.path, "--epochs", "2", "--data-dir", Self.dataDirectory])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming"))
        let expected = try Self.metrics(straight)
        #expect(expected.count == 4)
        #expect(try Self.metrics(split) == expected)
        let config = try String(contentsOf: straight.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["\"backend_requested\" : \"cpu\"", "\"backend_used\" : \"cpu:0\"", "\"rdlab_version\"", "\"test_noise\"",
            "\"latent_dimension\" : 8"] {
            #expect(config.contains(key), "config.json lacks \(key)")
        }
        let eval = try RDLabProcess.run(["eval", "--run", straight.path, "--backend", "cpu", "--data-dir", Self.dataDirectory,
            "--iwae", "5"])
        #expect(eval.status == 0 && eval.stdout.contains("−ELBO"), "\(eval.stderr)")
        // "… −ELBO 543.210 nats …" and "IWAE bound, K = 5: log p(x) ≥ -540.123 nats"
        func number(after marker: String) -> Double? {
            guard let range = eval.stdout.range(of: marker) else { return nil }
            return Double(eval.stdout[range.upperBound...].prefix { !$0.isWhitespace })
        }
        let elbo = try #require(number(after: "−ELBO "), "\(eval.stdout)"), bound = try #require(number(after: "log p(x) ≥ "), "\(eval.stdout)")
        #expect(bound >= -elbo, "IWAE K = 5 \(bound) below the ELBO \(-elbo)")
        let again = try Self.train(["--epochs", "1", "--out", straight.path])
        #expect(again.status != 0 && again.stderr.contains("already holds a run"))
    }

    @Test func badFlagsAndDataAreNamed() throws {
        let empty = try RDLabProcess.temporaryDirectory("nodata")
        defer { try? FileManager.default.removeItem(at: empty) }
        let unknown = try RDLabProcess.run(["train", "--dataset", "cifar10"])
        #expect(unknown.status != 0 && unknown.stderr.contains("binarized-mnist, mnist, fashion-mnist"))
        let batch = try RDLabProcess.run(["train", "--batch-size", "0"])
        #expect(batch.status != 0 && batch.stderr.contains("--batch-size"))
        let activation = try RDLabProcess.run(["train", "--activation", "swish"])
        #expect(activation.status != 0 && activation.stderr.contains("--activation"))
        let missing = try RDLabProcess.run(["train", "--backend", "cpu", "--data-dir", empty.path, "--out",
            empty.appendingPathComponent("run").path], environment: ["HOME": empty.path, "RDLAB_DATA_DIR": nil, "RDLAB_OFFLINE": "1"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("binarized_mnist_train.bin") && missing.stderr.contains(empty.path))
        let noRun = try RDLabProcess.run(["train", "--resume", empty.appendingPathComponent("nope").path])
        #expect(noRun.status != 0 && noRun.stderr.contains("config.json not found"))
        let eval = try RDLabProcess.run(["eval"])
        #expect(eval.status != 0 && eval.stderr.contains("--run"))
        let model = try RDLabProcess.run(["train", "--model", "laplace"])
        #expect(model.status != 0 && model.stderr.contains("--model") && model.stderr.contains("'alemi', 'echo', 'toy', 'hierarchical' or 'delta'"))
        let terms = try RDLabProcess.run(["train", "--model", "echo", "--batch-size", "10", "--echo-terms", "12"])
        #expect(terms.status != 0 && terms.stderr.contains("--batch-size 13"))
        let replacement = try RDLabProcess.run(["train", "--model", "echo", "--echo-replacement", "maybe"])
        #expect(replacement.status != 0 && replacement.stderr.contains("--echo-replacement"))
        let hidden = try RDLabProcess.run(["train", "--encoder", "iaf", "--made-hidden", "100,abc"])
        #expect(hidden.status != 0 && hidden.stderr.contains("--made-hidden"))
        let marginal = try RDLabProcess.run(["train", "--marginal", "flow"])
        #expect(marginal.status != 0 && marginal.stderr.contains("--marginal"))
        let decoder = try RDLabProcess.run(["train", "--decoder", "wavenet"])
        #expect(decoder.status != 0 && decoder.stderr.contains("--decoder"))
        let vampEcho = try RDLabProcess.run(["train", "--marginal", "vamp", "--model", "echo"])
        #expect(vampEcho.status != 0 && vampEcho.stderr.contains("--marginal applies to --model alemi, not echo"))
        let components = try RDLabProcess.run(["train", "--marginal", "vamp", "--vamp-components", "0"])
        #expect(components.status != 0 && components.stderr.contains("--vamp-components"))
        let iafEcho = try RDLabProcess.run(["train", "--encoder", "iaf", "--model", "echo"])
        #expect(iafEcho.status != 0 && iafEcho.stderr.contains("--encoder applies to --model alemi, not echo"))
        let toyData = try RDLabProcess.run(["train", "--model", "toy", "--dataset", "mnist"])
        #expect(toyData.status != 0 && toyData.stderr.contains("--dataset applies to --model alemi, delta, echo or hierarchical, not toy"))
        let twoTargets = try RDLabProcess.run(["train", "--target-rate", "5", "--target-distortion", "80"])
        #expect(twoTargets.status != 0 && twoTargets.stderr.contains("give one"))
        let freeBits = try RDLabProcess.run(["train", "--encoder", "iaf", "--free-bits", "0.5"])
        #expect(freeBits.status != 0 && freeBits.stderr.contains("--free-bits") && freeBits.stderr.contains("--free-bits-group layer"))
        let resumeSeed = try RDLabProcess.run(["train", "--resume", empty.path, "--seed", "2"])
        #expect(resumeSeed.status != 0 && resumeSeed.stderr.contains("only --epochs and --max-steps may change, not --seed"))
        let orphan = try RDLabProcess.run(["train", "--geco-lr", "0.1"])
        #expect(orphan.status != 0 && orphan.stderr.contains("--geco-lr refines --target-distortion, which is not given"))
        let linear = try RDLabProcess.run(["train", "--activation", "linear"])
        #expect(linear.status != 0 && linear.stderr.contains("not a hidden activation"))
        let negativeTarget = try RDLabProcess.run(["train", "--target-rate=-1"])
        #expect(negativeTarget.status != 0 && negativeTarget.stderr.contains("--target-rate must be a finite number of nats ≥ 0"))
    }

    /// `--encoder iaf --marginal maf` end to end: a finite Monte Carlo rate, the encoder and
    /// marginal in config.json.
    @Test func iafEncoderAndMAFMarginalTrain() throws {
        let root = try RDLabProcess.temporaryDirectory("iaf")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let result = try Self.train(["--encoder", "iaf", "--marginal", "maf", "--flow-steps", "2", "--made-hidden", "16,16",
            "--epochs", "1", "--out", run.path])
        #expect(result.status == 0, "\(result.stderr)")
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["\"encoder\" : \"iaf\"", "\"marginal\" : \"maf\"", "\"flow_steps\" : 2", "MAF marginal"] {
            #expect(config.contains(key), "config.json lacks \(key)")
        }
    }

    /// Alemi's `-+v` (PixelCNN decoder, VampPrior) end to end with small layers: finite R and
    /// D, the family tag in config.json and metrics.jsonl, sequentially sampled images (two
    /// columns, on the CPU); on PoCL as well where the machine has it.
    @Test func pixelCNNDecoderWithVampPriorTrains() throws {
        let root = try RDLabProcess.temporaryDirectory("vamp")
        defer { try? FileManager.default.removeItem(at: root) }
        let backends = ["cpu"] + (RDLabProcess.hasPoCL ? ["opencl:pocl"] : [])
        for backend in backends {
            let run = root.appendingPathComponent(backend.replacingOccurrences(of: ":", with: "-"))
            let result = try Self.train(["--decoder", "pixelcnn", "--marginal", "vamp", "--pixelcnn-features", "4",
                "--pixelcnn-resnets", "1", "--vamp-components", "5", "--max-steps", "2", "--test-limit", "20",
                "--batch-size", "20", "--out", run.path, "--backend", backend, "--strict-backend", "--image-columns",
                backend == "cpu" ? "2" : "0"])
            #expect(result.status == 0, "\(backend): \(result.stderr)")
            let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
            for key in ["\"family\" : \"-+v\"", "\"decoder\" : \"pixelcnn\"", "\"vamp_components\" : 5", "VampPrior marginal"] {
                #expect(config.contains(key), "\(backend): config.json lacks \(key)")
            }
            for line in try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(object["family"] as? String == "-+v")
                #expect((object["rate_nats"] as? Double)?.isFinite == true && (object["distortion_nats"] as? Double)?.isFinite == true)
            }
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("samples.png").path) == (backend == "cpu"))
        }
    }

    /// `--model echo` end to end: exact rate above its floor in metrics.jsonl, the channel in
    /// config.json (with how test batches get their noise), eval of the run.
    @Test func echoChannelTrainsAndEvaluates() throws {
        let root = try RDLabProcess.temporaryDirectory("echo")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let result = try Self.train(["--model", "echo", "--epochs", "1", "--out", run.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("echo channel: 49 terms without replacement"))
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let rate = try #require(object["rate_nats"] as? Double), floor = try #require(object["rate_floor_nats"] as? Double)
            #expect(rate >= floor && floor > 0, "rate \(rate), floor \(floor)")
        }
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["\"kind\" : \"echo\"", "\"echo_terms\" : 49", "built from the other members of that batch"] {
            #expect(config.contains(key), "config.json lacks \(key)")
        }
        let eval = try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", Self.dataDirectory])
        #expect(eval.status == 0 && eval.stdout.contains("echo"), "\(eval.stdout) \(eval.stderr)")
        let iwae = try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", Self.dataDirectory, "--iwae", "5"])
        #expect(iwae.status == 1 && iwae.stderr.contains("--iwae cannot bound this model: the Echo channel has no density e(z|x)"),
            "\(iwae.stderr)")
    }

    @Test func nonFiniteLossStopsWithTheStepAndCheckpoint() throws {
        let root = try RDLabProcess.temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = try Self.train(["--epochs", "4", "--lr", "1e30", "--train-limit", "50", "--out", root.path])
        #expect(out.status != 0)
        #expect(out.stderr.contains("NaN or infinite at step"), "\(out.stderr)")
        #expect(out.stderr.contains("checkpoint"))
    }

    @Test func interruptWritesACheckpointThatResumes() throws {
        let root = try RDLabProcess.temporaryDirectory("sigint")
        defer { try? FileManager.default.removeItem(at: root) }
        let process = Process()
        process.executableURL = RDLabProcess.executable
        process.arguments = ["train", "--backend", "cpu", "--data-dir", Self.dataDirectory, "--test-limit", "50",
            "--batch-size", "50", "--latent-dim", "8", "--epochs", "20", "--out", root.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let config = root.appendingPathComponent("config.json")
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: config.path) && Date() < deadline { usleep(100_000) }
        usleep(1_500_000)
        process.interrupt()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(log)")
        // Stopped while training or evaluating (state saved), or while drawing images (the epoch's commit stands).
        #expect(log.contains("checkpoint written at step") || log.contains("is complete; resume with"), "\(log)")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("checkpoint.safetensors").path))
        let resumed = try RDLabProcess.run(["train", "--resume", root.path, "--max-steps", "3",
            "--data-dir", Self.dataDirectory])
        #expect(resumed.stderr.contains("resuming"), "\(resumed.stderr)")
    }
}
