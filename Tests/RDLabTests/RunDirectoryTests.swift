import Foundation
import RDCompute
import RDFiles
import RDTestSupport
import Testing

@testable import RDLab

/// The pieces that keep a run directory whole: the writer's lock, the metrics commit, durable
/// writes with errors in plain words, and `config.json` errors that name the field.
@Suite("Run directory")
struct RunDirectoryTests {
    static func metrics(epoch: Int, split: RunDirectory.Metrics.Split) -> RunDirectory.Metrics {
        RunDirectory.Metrics(epoch: epoch, step: 2 * epoch, split: split, rateNats: 1.5, distortionNats: 80,
            negElboNats: 81.5, beta: 1, seconds: 0.25, examplesPerSecond: 400, rateFloorNats: nil, family: "---")
    }

    @Test func metricsPastTheCheckpointAndTornLinesAreDropped() throws {
        let directory = RunDirectory(url: try TestDatasets.temporaryDirectory("run"))
        defer { try? FileManager.default.removeItem(at: directory.url) }
        #expect(try directory.keepMetrics(lines: 0) == 0)
        #expect(try directory.append([Self.metrics(epoch: 1, split: .train), Self.metrics(epoch: 1, split: .test)]) == 2)
        let committed = try Data(contentsOf: directory.metrics)
        #expect(try directory.append([Self.metrics(epoch: 2, split: .train), Self.metrics(epoch: 2, split: .test)]) == 4)
        // A crash after the lines of epoch 2 but before its checkpoint, then half a line more.
        let handle = try FileHandle(forWritingTo: directory.metrics)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"epoch\":3,\"spl".utf8))
        try handle.close()
        #expect(try directory.keepMetrics(lines: 2) == 3)
        #expect(try Data(contentsOf: directory.metrics) == committed)
        #expect(try directory.keepMetrics(lines: 2) == 0)
        #expect(throws: RunDirectoryError.metricsBehind(directory.metrics.path, found: 2, committed: 4)) {
            try directory.keepMetrics(lines: 4)
        }
        // Appending after a torn line never glues a new line onto it.
        try Data(committed + Data("{\"torn".utf8)).write(to: directory.metrics)
        #expect(try directory.append([Self.metrics(epoch: 2, split: .train)]) == 3)
        let lines = try String(contentsOf: directory.metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines.allSatisfy { $0.hasPrefix("{\"beta\"") })
    }

    @Test func oneWriterPerDirectory() throws {
        let url = try TestDatasets.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(at: url) }
        var first: RunLock? = try RunLock(directory: url)
        #expect(first?.previousHolder == nil)
        do {
            _ = try RunLock(directory: url)
            Issue.record("a second writer got the lock")
        } catch let error as RunLockError {
            #expect(error.description.contains("in use by another rdlab process (pid \(getpid()) on "))
            #expect(error.description.contains("--out"))
        }
        first = nil
        // Released cleanly: the file names nobody, and the next writer takes it without a notice.
        #expect(try Data(contentsOf: url.appendingPathComponent("lock")).isEmpty)
        var second: RunLock? = try RunLock(directory: url)
        #expect(second?.previousHolder == nil)
        second = nil
        // A holder that died leaves its name but no flock: the next writer takes over and says whom from.
        let dead = RunLock.Holder(pid: 999_999, host: "elsewhere", started: "2026-01-01T00:00:00Z")
        try JSONEncoder.rdlab(pretty: false).encode(dead).write(to: url.appendingPathComponent("lock"))
        let third = try RunLock(directory: url)
        #expect(third.previousHolder == dead)
        withExtendedLifetime(third) {}
    }

    @Test func writesAreAtomicDurableAndNameThePathAndCause() throws {
        let root = try TestDatasets.temporaryDirectory("files")
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("a/b/file.json")
        try AtomicFile.write(Data("one".utf8), to: file)
        try AtomicFile.write(Data("two".utf8), to: file)
        #expect(try AtomicFile.read(file) == Data("two".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["file.json"])
        // A save killed before its rename leaves a temporary file; the next start removes it.
        // A save killed before its rename leaves a temporary file; the next start removes it,
        // and only it.
        let folder = file.deletingLastPathComponent()
        let stale = folder.appendingPathComponent(".file.json.123.456.tmp")
        let others = [".notes.tmp", ".file.json.tmp", ".file.json.1.x.tmp", ".other.json.1.2.tmp", "file.json.1.2.tmp"]
        for name in [stale.lastPathComponent] + others { try Data("half".utf8).write(to: folder.appendingPathComponent(name)) }
        #expect(try AtomicFile.removeInterruptedWrites(of: ["file.json"], in: folder) == [stale.lastPathComponent])
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: folder.path)) == Set(others + ["file.json"]))
        for name in others { try FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }

        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let underFile = file.appendingPathComponent("x/y.json")
        #expect(message { try AtomicFile.write(Data(), to: underFile) }
            == "cannot create the directory \(file.appendingPathComponent("x").path): a part of the path is not a directory")
        #expect(message { try AtomicFile.createDirectory(root.appendingPathComponent("p/q/r")) } == "no error")
        #expect(message { try AtomicFile.createDirectory(file) } == "cannot create the directory \(file.path): already exists")
        #expect(message { _ = try AtomicFile.read(root.appendingPathComponent("missing")) }
            == "cannot read \(root.appendingPathComponent("missing").path): no such file or directory")
        #expect(FileSystemError(.write, path: "/x", code: ENOSPC).description == "cannot write /x: no space left on device")
        #expect(FileSystemError(.write, path: "/x", code: EROFS).cause == "read-only file system")
        #expect(FileSystemError(.write, path: "/x", code: EACCES).cause == "permission denied")
    }

    static let datasets = ["binarized-mnist", "mnist", "fashion-mnist"]
    static let binarizations = ["dynamic", "threshold", "none"]

    static func decodeError(_ json: String) -> String {
        do {
            _ = try RunDirectory.decodeConfig(Data(json.utf8), file: "/r/config.json", datasets: datasets, binarizations: binarizations)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func configErrorsNameTheFileAndTheField() throws {
        let settings = RunSettings(dataset: "mnist", binarize: "dynamic", model: .alemi(AlemiSpec(latentDimension: 8)),
            objective: ObjectiveSpec(weight: .targetRate(TargetRate(rate: 10))), epochs: 2, maxSteps: nil, trainLimit: nil, testLimit: nil, batchSize: 50, learningRate: 3e-4,
            learningRateSchedule: .constant, normalizeGradients: false, seed: 0)
        let config = RunDirectory.Config(settings: settings, provenance: RunProvenance(backendRequested: "cpu",
            backendUsed: "cpu:0", device: "CPU", driver: "x", fallbackReason: nil, rdlabVersion: "0", rdlabCommit: "x",
            started: "now"))
        let valid = String(decoding: try JSONEncoder.rdlab(pretty: true).encode(config), as: UTF8.self)
        #expect(Self.decodeError(valid) == "accepted")
        let cases: [(String, String, String)] = [
            ("\"batch_size\" : 50", "\"batch_size\" : 0", "/r/config.json: settings.batch_size must be between 1 and 1048576 (got 0)"),
            ("\"rate\" : 10", "\"rate\" : \"nan\"", "/r/config.json: field settings.objective.weight.rate is not a number"),
            ("\"rate\" : 10", "\"rate\" : -1", "/r/config.json: settings.objective.weight.rate must be a finite number of nats ≥ 0 (got -1.0)"),
            ("\"kind\" : \"target-rate\"", "\"kind\" : \"lagrange\"",
                "/r/config.json: field settings.objective.weight.kind: 'lagrange' is not one of constant, annealed, target-rate, geco"),
            ("\"epochs\" : 2", "\"epochs\" : -4", "/r/config.json: settings.epochs must be between 1 and 1000000 (got -4)"),
            ("\"latent_dimension\" : 8", "\"latent_dimension\" : 99999999999",
                "/r/config.json: settings.model.latent_dimension must be between 1 and 4096 (got 99999999999)"),
            ("\"dataset\" : \"mnist\"", "\"dataset\" : \"cifar\"",
                "/r/config.json: settings.dataset 'cifar' is not one of binarized-mnist, mnist, fashion-mnist"),
            ("\"made_hidden\" : [\n        640,\n        640,\n        640\n      ]", "\"made_hidden\" : [\"640\"]",
                "/r/config.json: field settings.model.made_hidden[0] is not an integer"),
            ("\"learning_rate\" : 0.0003", "\"learning_rate\" : 0", "/r/config.json: settings.learning_rate must be a finite number > 0 (got 0.0)"),
            ("\"encoder\" : \"gaussian\"", "\"encoder\" : \"flow\"", "/r/config.json: field settings.model.encoder: 'flow' is not one of gaussian, iaf"),
            ("\"kind\" : \"alemi\"", "\"kind\" : \"pixelvae\"", "/r/config.json: field settings.model.kind: 'pixelvae' is not one of alemi, echo, toy, hierarchical, delta"),
            ("\"binarize\" : \"dynamic\"", "\"binarize\" : \"otsu\"",
                "/r/config.json: settings.binarize 'otsu' is not one of dynamic, threshold, none"),
        ]
        for (original, replacement, expected) in cases {
            #expect(valid.contains(original), "\(original) not in the config")
            #expect(Self.decodeError(valid.replacingOccurrences(of: original, with: replacement)) == expected)
        }
        #expect(Self.decodeError("{\"settings\": {}}").hasPrefix("/r/config.json: field "))
        #expect(Self.decodeError("[1, 2").hasPrefix("/r/config.json: not valid JSON"))
    }

    /// `config.json` as earlier releases wrote it still loads, with the same model.
    @Test(arguments: ["---", "--+", "--v", "+--", "+-+", "+-v", "-+-", "-++", "-+v", "++-", "+++", "++v"]
        .map { (tag: String) -> (String, String?) in ("family" + tag, tag) } + [("echo", nil), ("echo-step0", nil)])
    func earlierConfigsStillLoad(folder: String, family: String?) throws {
        let file = URL(fileURLWithPath: TestDatasets.fixtures).deletingLastPathComponent()
            .appendingPathComponent("legacy-runs/\(folder)/config.json")
        let config = try RunDirectory.decodeConfig(try Data(contentsOf: file), file: file.path, datasets: Self.datasets,
            binarizations: Self.binarizations)
        #expect(config.settings.family == family && config.settings.model.family == family)
        switch config.settings.model {
        case .alemi(let spec): #expect(spec.latentDimension == 8 && family != nil)
        case .echo(let spec): #expect(spec.latentDimension == 8 && spec.terms == 7 && family == nil)
        case .toy, .hierarchical, .delta: Issue.record("\(folder) read as the \(config.settings.model.kind.rawValue) model")
        }
        #expect(config.settings.objective == ObjectiveSpec(weight: .constant(beta: 1)))
        if case .alemi(let spec) = config.settings.model { #expect(spec.family == family) }
        #expect(config.settings.batchSize == 8 && config.settings.maxSteps == (folder == "echo-step0" ? 2 : 1))
        #expect(["01c5378", "416bd61"].contains(config.provenance.rdlabCommit))
        // a value no release wrote is named with its field
        let text = try String(contentsOf: file, encoding: .utf8)
        for (original, replacement, expected) in [("\"channel\" : \"", "\"channel\" : \"laplace-", "field settings.model.channel: 'laplace-"),
            ("\"decoder\" : \"", "\"decoder\" : \"wavenet-", "field settings.model.decoder: 'wavenet-")] {
            let error = Self.decodeError(text.replacingOccurrences(of: original, with: replacement))
            #expect(error.contains(expected), "\(folder): \(error)")
        }
    }

    /// The seeds of the config fuzz corpus: the valid one loads, each other one is refused
    /// naming the file.
    @Test func configFuzzSeeds() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus/FuzzRunConfig")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 10)
        for name in names {
            let error = Self.decodeError(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
            // echo terms matter to echo channels only; the typed ones are issue 16's format
            if ["valid.json", "echo-terms-huge-gaussian.json", "typed-target-rate.json", "toy.json"].contains(name) {
                #expect(error == "accepted")
            } else {
                #expect(error.hasPrefix("/r/config.json: "), "\(name): \(error)")
            }
        }
    }

    /// Each moment's live bytes are linear in the batch, so batches 2 and 3 predict the peak at
    /// batch 24 to within a few floats, also where a fixed buffer (300 VampPrior pseudo-inputs
    /// through the encoder) peaks at small batches and the decoder's activations at large ones
    /// (the line through the peaks at batches 2 and 3 misses by 13 % there).
    /// So do they with recomputed activations, whose segments' buffers count in the step's graph.
    @Test(arguments: [(AlemiSpec(latentDimension: 4), ActivationMemory.kept),
        (AlemiSpec(latentDimension: 4, encoder: .iaf, marginal: .vamp, flowSteps: 1, madeHidden: [8], vampComponents: 3), .kept),
        (Self.pixelCNNVamp, .kept), (Self.pixelCNNVamp, .recomputed)])
    func stepMemoryEstimateMatchesTheGraph(_ spec: AlemiSpec, _ activations: ActivationMemory) throws {
        let backend = AvailableBackends.cpu.backend
        let estimate = try StepMemory.estimate(.alemi(spec), exampleShape: [28, 28, 1], backend: backend, activations: activations)
        let model = try ModelSpec.alemi(spec).makeModel(backend: backend, seed: 0)
        let graph = Graph(backend: backend, measuringMemory: true, activations: activations)
        let out = try model(try graph.filled(0.5, shape: [24, 28, 28, 1]), in: graph, seed: 0, noiseStream: 0)
        try graph.backward(from: try graph.mean(try graph.add(out.distortion, try out.totalRate(in: graph))))
        let parameters = model.parameters.reduce(0) { $0 + $1.tensor.count }
        #expect(estimate.parameterBytes == 12 * parameters)
        // Exact but for a few small buffers (broadcast gradients that batch 1 does not need).
        let actual = estimate.parameterBytes + graph.peakBytes
        #expect(abs(estimate.bytes(batch: 24) - actual) < actual / 1000, "estimate \(estimate.bytes(batch: 24)), graph \(actual)")
        #expect(estimate.peak(batch: 24).perExampleBytes > 4 * 784 * 4)
        #expect(estimate.largestBatch(within: estimate.bytes(batch: 7)) == 7)
        #expect(estimate.bytes(batch: Int.max / 2) == Int.max)
        if activations == .recomputed {
            let kept = try StepMemory.estimate(.alemi(spec), exampleShape: [28, 28, 1], backend: backend)
            #expect(estimate.bytes(batch: 100) < kept.bytes(batch: 100) * 3 / 4, "recomputed \(estimate.bytes(batch: 100)), kept \(kept.bytes(batch: 100))")
        }
    }

    static let pixelCNNVamp = AlemiSpec(latentDimension: 4, activation: .gated, decoder: .pixelcnn, marginal: .vamp,
        vampComponents: 300, pixelcnnFeatures: 16, pixelcnnResnets: 1)
}
