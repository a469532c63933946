import Foundation
import RDCompute
import RDFiles

/// The files of a run directory: `config.json`, `metrics.jsonl`, `checkpoint.safetensors`, the
/// images, and the `lock` of its one writer.
///
/// An epoch is committed in two writes: its metrics lines are appended (the file rewritten
/// atomically), then the checkpoint records how many lines it covers. A run that starts or
/// resumes drops every line past that count (``keepMetrics(lines:)``), so a crash between the
/// two writes, or in either, leaves each (epoch, split) exactly once.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public var config: URL { url.appendingPathComponent("config.json") }
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var checkpoint: URL { url.appendingPathComponent("checkpoint.safetensors") }
    public var reconstructions: URL { url.appendingPathComponent("reconstructions.png") }
    public var samples: URL { url.appendingPathComponent("samples.png") }
    public var lock: URL { url.appendingPathComponent("lock") }
    /// The toy model's diagnostics (p*(x), g(x), e(z), e(z|x), the reconstruction kernel).
    public var toyDiagnostics: URL { url.appendingPathComponent("toy.json") }
    public var toyPicture: URL { url.appendingPathComponent("toy.png") }

    /// Removes the temporary files of an interrupted save of any of the run's files (and
    /// nothing else); returns their names. Only the lock's holder may call it.
    public func removeInterruptedWrites() throws -> [String] {
        try AtomicFile.removeInterruptedWrites(of: [config, metrics, checkpoint, reconstructions, samples, toyDiagnostics, toyPicture].map(\.lastPathComponent),
            in: url)
    }

    public struct Config: Codable, Equatable, Sendable {
        public var settings: RunSettings
        public var provenance: RunProvenance

        public init(settings: RunSettings, provenance: RunProvenance) {
            self.settings = settings
            self.provenance = provenance
        }
    }

    public func writeConfig(_ config: Config) throws {
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(config), to: self.config)
    }

    /// The run's configuration, checked field by field (``RunSettings/problem()``; the dataset
    /// and binarisation against the names given).
    public func readConfig(datasets: [String], binarizations: [String]) throws -> Config {
        let data: Data
        do {
            data = try AtomicFile.read(config)
        } catch let error as FileSystemError where error.code == ENOENT {
            throw RunDirectoryError.notARun(config.path, "not found: is \(url.path) an rdlab run directory?")
        } catch let error as FileSystemError {
            throw RunDirectoryError.notARun(config.path, error.cause)
        }
        return try Self.decodeConfig(data, file: config.path, datasets: datasets, binarizations: binarizations)
    }

    /// Decodes and checks `config.json`'s bytes; errors name `file` and the field.
    public static func decodeConfig(_ data: Data, file: String, datasets: [String], binarizations: [String]) throws -> Config {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: Config
        do {
            config = try decoder.decode(Config.self, from: data)
        } catch let error as DecodingError {
            throw RunDirectoryError.badField(file, error.plainDescription)
        } catch {
            throw RunDirectoryError.badField(file, "not JSON (\(error.localizedDescription))")
        }
        let settings = config.settings
        if let problem = settings.problem() {
            throw RunDirectoryError.badField(file, "\(problem.setting.field) \(problem.reason)")
        }
        let knownData = settings.model.readsImages ? datasets : [ToyDistribution.name]
        guard knownData.contains(settings.dataset) else {
            throw RunDirectoryError.badField(file, "settings.dataset '\(settings.dataset)' is not one of \(knownData.joined(separator: ", "))")
        }
        guard !settings.model.readsImages || binarizations.contains(settings.binarize) else {
            throw RunDirectoryError.badField(file,
                "settings.binarize '\(settings.binarize)' is not one of \(binarizations.joined(separator: ", "))")
        }
        return config
    }

    /// One metrics line per epoch and split.
    public struct Metrics: Codable, Equatable, Sendable {
        public enum Split: String, Codable, Sendable { case train, test }

        public var epoch: Int
        public var step: Int
        public var split: Split
        /// Σ_l R_l.
        public var rateNats: Double
        /// R_l by latent layer name (`{"z": …}`; HIT: `z1`, `z2`). Absent in older files.
        public var ratesNats: [String: Double]?
        public var distortionNats: Double
        public var negElboNats: Double
        /// The weight of the (first) layer's rate at the end of the epoch: β, or λ of a target rate.
        public var beta: Float
        /// The weight of each layer's rate, where the objective has more than a constant β.
        public var betas: [String: Float]?
        public var seconds: Double
        public var examplesPerSecond: Double
        /// The smallest rate the model can report: the Echo channel's −D·log r, the δ-VAE
        /// channel's committed D·δ, the δ-VAE sequence model's committed δ (absent otherwise).
        public var rateFloorNats: Double?
        /// Train lines of a model with a rate floor: the smallest batch rate of the epoch's steps.
        public var batchRateMinNats: Double?
        /// The rate under the model's auxiliary prior (the δ-VAE's LSTM), where it has one.
        public var rateAuxNats: Double?
        /// Alemi's family tag of the model, e.g. `-+v` (absent for other models).
        public var family: String?

        public init(epoch: Int, step: Int, split: Split, rateNats: Double, ratesNats: [String: Double]? = nil,
            distortionNats: Double, negElboNats: Double, beta: Float, betas: [String: Float]? = nil, seconds: Double,
            examplesPerSecond: Double, rateFloorNats: Double?, batchRateMinNats: Double? = nil, rateAuxNats: Double? = nil,
            family: String?) {
            self.epoch = epoch
            self.step = step
            self.split = split
            self.rateNats = rateNats
            self.ratesNats = ratesNats
            self.distortionNats = distortionNats
            self.negElboNats = negElboNats
            self.beta = beta
            self.betas = betas
            self.seconds = seconds
            self.examplesPerSecond = examplesPerSecond
            self.rateFloorNats = rateFloorNats
            self.batchRateMinNats = batchRateMinNats
            self.rateAuxNats = rateAuxNats
            self.family = family
        }
    }

    /// Appends lines by rewriting the file atomically (it is small); returns the line count now.
    @discardableResult
    public func append(_ lines: [Metrics]) throws -> Int {
        let encoder = JSONEncoder.rdlab(pretty: false)
        var kept = try completeMetricsLines()
        for line in lines {
            kept.append(try encoder.encode(line))
        }
        try AtomicFile.write(Self.joined(kept), to: metrics)
        return kept.count
    }

    /// Keeps the first `count` lines of `metrics.jsonl` (those a checkpoint covers) and drops
    /// the rest, a torn last line included; returns how many were dropped.
    @discardableResult
    public func keepMetrics(lines count: Int) throws -> Int {
        guard FileManager.default.fileExists(atPath: metrics.path) else {
            guard count == 0 else { throw RunDirectoryError.metricsBehind(metrics.path, found: 0, committed: count) }
            return 0
        }
        let raw = try AtomicFile.read(metrics)
        let lines = try completeMetricsLines(raw)
        guard lines.count >= count else { throw RunDirectoryError.metricsBehind(metrics.path, found: lines.count, committed: count) }
        // The kept lines are a prefix of the file: cutting it needs no free space (a full disk
        // is when a failed commit takes its lines back) and is one call.
        let keptBytes = lines.prefix(count).reduce(0) { $0 + $1.count + 1 }
        if keptBytes != raw.count { try AtomicFile.truncate(metrics, to: keptBytes) }
        return lines.count - count + (raw.last == 0x0A || raw.isEmpty ? 0 : 1)
    }

    /// The newline-terminated lines of `metrics.jsonl` (a torn last line is left out).
    func completeMetricsLines(_ raw: Data? = nil) throws -> [Data] {
        guard let data = try raw ?? (FileManager.default.fileExists(atPath: metrics.path) ? AtomicFile.read(metrics) : nil)
        else { return [] }
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { Data($0) }
        lines.removeLast()  // what follows the last newline: empty, or a torn line
        return lines
    }

    static func joined(_ lines: [Data]) -> Data {
        var data = Data()
        for line in lines {
            data.append(line)
            data.append(0x0A)
        }
        return data
    }
}

/// A run directory that cannot be used as it is; each names the file.
public enum RunDirectoryError: ReportableError, Equatable {
    case notARun(String, String)
    case badField(String, String)
    case metricsBehind(String, found: Int, committed: Int)

    public var description: String {
        switch self {
        case let .notARun(file, reason): "\(file) \(reason)"
        case let .badField(file, reason): "\(file): \(reason)"
        case let .metricsBehind(file, found, committed):
            "\(file) holds \(found) complete lines, but the checkpoint covers \(committed): it was cut or edited outside rdlab; restore it or start a new run"
        }
    }
}
