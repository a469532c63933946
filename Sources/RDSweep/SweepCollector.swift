import Foundation
import GRDB
import RDLab

/// Fills the results store from the run directories. Each point's rows are rebuilt from its
/// files in one transaction, so collecting again changes nothing, and a run still training
/// is collected as far as it has got. A line of `metrics.jsonl` that is not whole or not a
/// metrics record is skipped and reported; the point's other lines are kept.
public struct SweepCollector {
    public let sweep: SweepDirectory
    public let store: ResultsStore

    public init(sweep: SweepDirectory, store: ResultsStore) {
        self.sweep = sweep
        self.store = store
    }

    /// What a collection found.
    public struct Summary: Equatable, Sendable {
        public var points = 0
        public var metricsRows = 0
        public var states: [String: Int] = [:]
        /// `file line N: why`, one per line left out.
        public var skipped: [String] = []
    }

    public func collect() throws -> Summary {
        let plan = try sweep.readPlan()
        var summary = Summary()
        for point in plan.points {
            let rows = try self.rows(of: point, skipped: &summary.skipped)
            try store.replace(rows)
            summary.points += 1
            summary.metricsRows += rows.metrics.count
            summary.states[rows.run.status, default: 0] += 1
        }
        return summary
    }

    /// Everything the store holds about `point`, from its run directory and record.
    func rows(of point: SweepPoint, skipped: inout [String]) throws -> PointRows {
        let run = sweep.run(point)
        let state = try PointState.of(point, in: sweep)
        var config: RunDirectory.Config?
        if FileManager.default.fileExists(atPath: run.config.path) {
            do {
                config = try Self.decodeConfig(run)
            } catch {
                skipped.append("\(run.config.path): not a run configuration; the point's settings come from points.json")
            }
        }
        let settings = config?.settings
        let encoder = JSONEncoder.rdlab(pretty: false)
        func json<T: Encodable>(_ value: T) -> String { String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
        let pointRow = PointRow(pointId: point.id, idx: point.index, label: point.label, axes: json(point.axes),
            flags: json(Dictionary(point.settings.map { ($0.flag, $0.value) }, uniquingKeysWith: { _, last in last })),
            model: settings?.model.kind.rawValue,
            family: settings?.family, objective: settings.map { $0.objective.weight.kindName },
            objectiveSettings: settings.map { json($0.objective) }, dataset: settings?.dataset,
            seed: settings.map { Int64(bitPattern: $0.seed) })
        var record: PointRecord?
        switch state {
        case .done(let r), .failed(let r): record = r
        default: break
        }
        let provenance = config?.provenance
        let runRow = RunRow(pointId: point.id, runDir: "runs/\(point.id)", status: state.name, exitStatus: record?.exitStatus,
            backendRequested: provenance?.backendRequested, backendUsed: provenance?.backendUsed, device: provenance?.device,
            driver: provenance?.driver, rdlabVersion: provenance?.rdlabVersion, rdlabCommit: provenance?.rdlabCommit,
            started: provenance?.started, finished: record?.finished, seconds: record?.seconds, host: record?.host)
        var metrics: [String: MetricRow] = [:]
        var layers: [String: LayerRateRow] = [:]
        let (lines, torn) = Self.lines(of: run.metrics)
        for (number, line) in lines {
            let decoder = JSONDecoder.rdlab
            guard let m = try? decoder.decode(RunDirectory.Metrics.self, from: line),
                  m.epoch >= 1, [m.rateNats, m.distortionNats, m.negElboNats].allSatisfy(\.isFinite) else {
                skipped.append("\(run.metrics.path) line \(number): not a metrics record; left out")
                continue
            }
            let key = "\(m.epoch) \(m.split.rawValue)"  // a later line of an (epoch, split) replaces a provisional one
            metrics[key] = MetricRow(pointId: point.id, epoch: m.epoch, split: m.split.rawValue, step: m.step, rate: m.rateNats,
                distortion: m.distortionNats, negElbo: m.negElboNats, beta: Double(m.beta), seconds: m.seconds,
                examplesPerSecond: m.examplesPerSecond, rateFloor: m.rateFloorNats, negIwae: nil, iwaeSamples: nil, psnrDb: nil)
            for (layer, rate) in m.ratesNats ?? ["z": m.rateNats] {
                layers["\(key) \(layer)"] = LayerRateRow(pointId: point.id, epoch: m.epoch, split: m.split.rawValue, layer: layer,
                    rate: rate, beta: m.betas?[layer].map(Double.init) ?? Double(m.beta))
            }
        }
        if let torn { skipped.append(torn) }
        let probes = attachEvaluation(of: point, to: &metrics, skipped: &skipped)
        return PointRows(point: pointRow, run: runRow, metrics: metrics.values.sorted { ($0.epoch, $0.split) < ($1.epoch, $1.split) },
            layerRates: layers.values.sorted { ($0.epoch, $0.split, $0.layer) < ($1.epoch, $1.split, $1.layer) }, probes: probes)
    }

    /// The whole lines of a JSON-lines file, numbered from 1, and the report of a last line
    /// without its newline (a write in progress, or torn), which is left out.
    static func lines(of file: URL) -> (lines: [(Int, Data)], torn: String?) {
        guard let data = try? Data(contentsOf: file) else { return ([], nil) }
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let tail = lines.removeLast()
        return (lines.enumerated().filter { !$0.element.isEmpty }.map { ($0.offset + 1, Data($0.element)) },
            tail.isEmpty ? nil : "\(file.path) line \(lines.count + 1): incomplete (no newline); left out")
    }

    /// `config.json` as `train` wrote it (its checks against dataset names are `train`'s).
    static func decodeConfig(_ run: RunDirectory) throws -> RunDirectory.Config {
        let decoder = JSONDecoder.rdlab
        return try decoder.decode(RunDirectory.Config.self, from: Data(contentsOf: run.config))
    }
}

extension RateWeight {
    /// The objective's kind, as the store's `objective` column holds it.
    var kindName: String {
        switch self {
        case .constant: "beta"
        case .annealed: "annealed-beta"
        case .targetRate: "target-rate"
        case .geco: "geco"
        }
    }
}

/// A point's rows.
struct PointRows {
    var point: PointRow
    var run: RunRow
    var metrics: [MetricRow]
    var layerRates: [LayerRateRow]
    var probes: [ProbeResult]
}

protocol StoredRow: Codable, PersistableRecord {}

extension StoredRow {
    static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

struct PointRow: StoredRow {
    static let databaseTableName = "points"
    var pointId: String
    var idx: Int
    var label: String
    var axes: String
    var flags: String
    var model: String?
    var family: String?
    var objective: String?
    var objectiveSettings: String?
    var dataset: String?
    var seed: Int64?
}

struct RunRow: StoredRow {
    static let databaseTableName = "runs"
    var pointId: String
    var runDir: String
    var status: String
    var exitStatus: Int32?
    var backendRequested: String?
    var backendUsed: String?
    var device: String?
    var driver: String?
    var rdlabVersion: String?
    var rdlabCommit: String?
    var started: String?
    var finished: String?
    var seconds: Double?
    var host: String?
}

struct MetricRow: StoredRow {
    static let databaseTableName = "metrics"
    var pointId: String
    var epoch: Int
    var split: String
    var step: Int
    var rate: Double
    var distortion: Double
    var negElbo: Double
    var beta: Double
    var seconds: Double
    var examplesPerSecond: Double?
    var rateFloor: Double?
    var negIwae: Double?
    var iwaeSamples: Int?
    var psnrDb: Double?
}

struct LayerRateRow: StoredRow {
    static let databaseTableName = "layer_rates"
    var pointId: String
    var epoch: Int
    var split: String
    var layer: String
    var rate: Double
    var beta: Double?
}
