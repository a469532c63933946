import Foundation
import RDCompute
import RDData
import RDLab

/// Every setting of a training run: written to `config.json`, read back by `--resume` and `eval`.
struct RunSettings: Codable {
    var dataset = "binarized-mnist"
    var binarize: String
    var model: VAEConfiguration
    var beta: Float = 1
    var klAnnealSteps = 0
    var epochs = 10
    var maxSteps: Int?
    var trainLimit: Int?
    var testLimit: Int?
    var batchSize = 100
    var learningRate: Float = 3e-4
    var learningRateSchedule = LearningRateSchedule.Kind.constant
    var normalizeGradients = false
    var seed: UInt64 = 0
    var testNoise = "the test batch's own reparameterised samples, fixed Philox streams per test batch"
    /// Alemi's family tag (encoder, decoder, marginal: `-`, `+` or `v`), e.g. `-+v`; nil for Echo.
    var family: String?
}

/// Where a run's backend came from, for `config.json`.
struct RunProvenance: Codable {
    var backendRequested: String
    var backendUsed: String
    var device: String
    var driver: String
    var fallbackReason: String?
    var rdlabVersion: String
    var rdlabCommit: String
    var started: String
}

/// The files of a run directory: config.json, metrics.jsonl, checkpoint.safetensors, images.
struct RunDirectory {
    let url: URL

    var config: URL { url.appendingPathComponent("config.json") }
    var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    var checkpoint: URL { url.appendingPathComponent("checkpoint.safetensors") }
    var reconstructions: URL { url.appendingPathComponent("reconstructions.png") }
    var samples: URL { url.appendingPathComponent("samples.png") }

    struct Config: Codable {
        var settings: RunSettings
        var provenance: RunProvenance
    }

    func writeConfig(_ config: Config) throws {
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(config), to: self.config)
    }

    func readConfig() throws -> Config {
        guard let data = FileManager.default.contents(atPath: config.path) else {
            throw CleanExit.failure("\(config.path) not found: is \(url.path) an rdlab run directory?")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(Config.self, from: data)
        } catch {
            throw CleanExit.failure("\(config.path) is not a readable run configuration: \(error)")
        }
    }

    /// One metrics line per epoch and split.
    struct Metrics: Codable {
        var epoch: Int
        var step: Int
        var split: String
        var rateNats: Double
        var distortionNats: Double
        var negElboNats: Double
        var beta: Float
        var seconds: Double
        var examplesPerSecond: Double
        /// Echo channel: the smallest rate it can report, −D·log r (absent for Gaussian).
        var rateFloorNats: Double?
        /// Alemi's family tag of the model, e.g. `-+v` (absent for Echo).
        var family: String?
    }

    /// Appends lines by rewriting the file atomically (it is small), so a crash never leaves half a line.
    func append(_ lines: [Metrics]) throws {
        let encoder = JSONEncoder.rdlab(pretty: false)
        var data = FileManager.default.contents(atPath: metrics.path) ?? Data()
        for line in lines {
            data.append(try encoder.encode(line))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: metrics)
    }
}

/// The commit of the checkout that holds the rdlab executable (`.build/…/rdlab`), whatever the
/// working directory; `RDLAB_COMMIT` overrides it, and it is "unknown" outside a git checkout.
func currentCommit() -> String {
    if let commit = ProcessInfo.processInfo.environment["RDLAB_COMMIT"] { return commit }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "--short=12", "HEAD"]
    process.currentDirectoryURL = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "unknown" }
    process.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
}
