import Foundation
import GRDB
import RDLab
import RDSweep
import Testing

/// The results store: collected from hand-written run directories, collected twice to the
/// same tables, a damaged metrics line reported and left out without losing the rest, the
/// schema migrated from its first version, and the exports.
@Suite("Results store")
struct ResultsStoreTests {
    /// A planned toy sweep of three target rates with point 0 trained for two epochs, point 1
    /// for one (its file ending in a torn line, with a damaged line before it), point 2 not at all.
    static func sweep() throws -> (SweepDirectory, [SweepPoint]) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rdsweep-\(UUID().uuidString)")
        let yaml = "train: {model: toy, epochs: 2}\naxes: {target_rate: [0.5, 1, 2]}\n"
        let spec = try SweepSpec.parse(yaml: yaml, file: "toy.yaml")
        let sweep = SweepDirectory(url: root)
        try sweep.create(yaml: yaml, spec: spec)
        let points = try sweep.readPlan().points
        for (point, epochs) in zip(points, [2, 1]) {
            let run = sweep.run(point)
            let rate = point.value(of: "target-rate")!.number!
            let settings = RunSettings(dataset: ToyDistribution.name, binarize: "none", model: .toy(ToySpec()),
                objective: ObjectiveSpec(weight: .targetRate(TargetRate(rate: rate))), epochs: 2, maxSteps: nil, trainLimit: nil,
                testLimit: nil, batchSize: 30, learningRate: 0.05, learningRateSchedule: .constant, normalizeGradients: false, seed: 0)
            try run.writeConfig(.init(settings: settings, provenance: RunProvenance(backendRequested: "cpu", backendUsed: "cpu",
                device: "test CPU", driver: "-", fallbackReason: nil, rdlabVersion: "0.1.0", rdlabCommit: "abc", started: "2026-11-30T00:00:00Z")))
            for epoch in 1...epochs {
                try run.append([.train, .test].map { split in
                    RunDirectory.Metrics(epoch: epoch, step: epoch * 100, split: split, rateNats: rate, ratesNats: ["z": rate],
                        distortionNats: 3.018393 - rate + 0.1 / Double(epoch), negElboNats: 3.018393 + 0.1 / Double(epoch),
                        beta: 0.9, betas: ["z": 0.9], seconds: 0.5, examplesPerSecond: 60, rateFloorNats: nil, family: nil)
                })
            }
        }
        let damaged = sweep.run(points[1]).metrics
        let handle = try FileHandle(forWritingTo: damaged)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"epoch\": 2, \"split\": \"train\", \"rate_nats\": \n{\"epoch\": 2, \"spl".utf8))
        try handle.close()
        try sweep.writeRecord(PointRecord(state: .done, exitStatus: 0, lastLines: [], started: "s", finished: "f", seconds: 1.5,
            host: "h"), for: points[0])
        return (sweep, points)
    }

    static func tables(_ store: ResultsStore) throws -> [String] {
        try ResultsTable.allCases.map { table in
            let (columns, rows) = try store.rows(of: table)
            return ([columns.joined(separator: ",")] + rows.map { $0.map(\.description).joined(separator: ",") }).joined(separator: "\n")
        }
    }

    @Test func collectsReportsDamageAndIsIdempotent() throws {
        let (sweep, points) = try Self.sweep()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let store = try ResultsStore(url: sweep.results)
        let first = try SweepCollector(sweep: sweep, store: store).collect()
        #expect(first.points == 3 && first.metricsRows == 6)
        #expect(first.states == ["done": 1, "pending": 2])
        #expect(first.skipped.count == 2, "\(first.skipped)")
        #expect(first.skipped[0].hasSuffix("metrics.jsonl line 3: not a metrics record; left out"))
        #expect(first.skipped[1].hasSuffix("metrics.jsonl line 4: incomplete (no newline); left out"))
        let before = try Self.tables(store)
        let second = try SweepCollector(sweep: sweep, store: store).collect()
        #expect(second == first)
        #expect(try Self.tables(store) == before)

        let final = try store.finalPoints()
        #expect(final.map(\.idx) == [0, 1])
        #expect(final[0].epoch == 2 && abs(final[0].rate - 0.5) < 1e-12 && final[0].objective == "target-rate" && final[0].model == "toy")
        #expect(try store.trajectory(of: points[0].id).map(\.epoch) == [1, 2])
        let (columns, runs) = try store.rows(of: .runs)
        let id = try #require(columns.firstIndex(of: "point_id")), status = try #require(columns.firstIndex(of: "status"))
        let device = try #require(columns.firstIndex(of: "device"))
        let states = Dictionary(uniqueKeysWithValues: runs.map { (String.fromDatabaseValue($0[id]) ?? "", String.fromDatabaseValue($0[status]) ?? "") })
        #expect(states == [points[0].id: "done", points[1].id: "pending", points[2].id: "pending"])
        #expect(runs.contains { String.fromDatabaseValue($0[device]) == "test CPU" })
    }

    /// A store of the first schema (written by an rdlab of that version) gains the later
    /// columns and keeps its rows.
    @Test func migratesTheFirstSchema() throws {
        let (sweep, _) = try Self.sweep()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let old = try ResultsStore(url: sweep.results, upTo: ResultsStore.versions[0])
        #expect(try old.appliedVersions() == [ResultsStore.versions[0]])
        #expect(try !old.rows(of: .metrics).columns.contains("neg_iwae"))
        let database = try DatabaseQueue(path: sweep.results.path)
        try database.write { db in
            try db.execute(sql: "INSERT INTO points (point_id, idx, label, axes, flags) VALUES ('p', 0, 'beta=1', '[]', '{}')")
            try db.execute(sql: """
                INSERT INTO metrics (point_id, epoch, split, step, rate, distortion, neg_elbo, beta, seconds)
                VALUES ('p', 1, 'test', 10, 1.5, 80, 81.5, 1, 2)
                """)
        }
        try database.close()
        let new = try ResultsStore(url: sweep.results)
        #expect(try new.appliedVersions() == ResultsStore.versions)
        let (columns, rows) = try new.rows(of: .metrics)
        #expect(columns.suffix(3) == ["neg_iwae", "iwae_samples", "psnr_db"] && rows.count == 1)
        #expect(rows.first?.suffix(3).allSatisfy(\.isNull) == true && rows.first?[columns.firstIndex(of: "neg_elbo")!] == 81.5.databaseValue)
        let summary = try SweepCollector(sweep: sweep, store: new).collect()
        #expect(summary.metricsRows == 6)
    }

    @Test func exportsCSVAndJSONLines() throws {
        let (sweep, _) = try Self.sweep()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let store = try ResultsStore(url: sweep.results)
        _ = try SweepCollector(sweep: sweep, store: store).collect()
        let folder = sweep.url.appendingPathComponent("export")
        let csv = try ResultsExport.write(store, format: .csv, to: folder)
        #expect(csv.map(\.lastPathComponent) == ["points.csv", "runs.csv", "metrics.csv", "layer_rates.csv", "probes.csv"])
        let points = try String(contentsOf: csv[0], encoding: .utf8).split(separator: "\n")
        #expect(points.count == 4 && points[0].hasPrefix("point_id,idx,label,axes,flags"))
        #expect(points[1].contains(",\"[{\"\"axis\"\":\"\"target_rate\"\",\"\"value\"\":\"\"0.5\"\"}]\","), "\(points[1])")
        let jsonl = try ResultsExport.write(store, format: .jsonl, to: folder)
        let metrics = try String(contentsOf: jsonl[2], encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 6)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(metrics[0].utf8)) as? [String: Any])
        #expect(row["epoch"] as? Int == 1 && row["neg_iwae"] is NSNull && row["rate"] is Double)
    }

    /// An `rdlab eval --probes --json` result, as the runner writes it to `evaluations/<id>.json`.
    static let evaluationJSON = """
        {"step": 200, "examples": 2000, "rate_nats": 12.5, "rates_nats": {"z1": 9, "z2": 3.5}, "distortion_nats": 80.25,
         "neg_elbo_nats": 92.75, "seconds": 4.5,
         "probes": {"psnr_decibels": 14.75, "classes": 10, "fitting_examples": 1600, "held_out_examples": 400, "split_seed": 7,
          "layers": [
           {"layer": "z1", "dimension": 784, "logistic_accuracy": 0.9, "nearest_neighbour_accuracy": 0.875, "rate_nats": 12.5,
            "bound_accuracy": 1, "chance_accuracy": 0.1175},
           {"layer": "z2", "dimension": 20, "logistic_accuracy": 0.7, "nearest_neighbour_accuracy": 0.65, "rate_nats": 3.5,
            "bound_accuracy": 1, "chance_accuracy": 0.1175}],
          "sampled_layers": [
           {"layer": "z1", "dimension": 784, "logistic_accuracy": 0.8, "nearest_neighbour_accuracy": 0.6, "rate_nats": 12.5,
            "bound_accuracy": 1, "chance_accuracy": 0.1175},
           {"layer": "z2", "dimension": 20, "logistic_accuracy": 0.5, "nearest_neighbour_accuracy": 0.45, "rate_nats": 3.5,
            "bound_accuracy": 1, "chance_accuracy": 0.1175}]}}

        """

    /// A store of the second schema (IWAE columns) gains the PSNR column and the probes table;
    /// a hand-written `eval --probes` result fills them on the point's last test row, collecting
    /// again changes nothing, and an evaluation of another step is reported and left out.
    @Test func probesFromAnEvaluation() throws {
        let (sweep, points) = try Self.sweep()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        do {
            let old = try ResultsStore(url: sweep.results, upTo: ResultsStore.versions[1])
            #expect(try old.appliedVersions() == Array(ResultsStore.versions.prefix(2)))
            #expect(try !old.rows(of: .metrics).columns.contains("psnr_db"))
        }
        let evaluations = sweep.url.appendingPathComponent("evaluations")
        try FileManager.default.createDirectory(at: evaluations, withIntermediateDirectories: true)
        try Data(Self.evaluationJSON.utf8).write(to: sweep.evaluation(points[0]))
        try Data(Self.evaluationJSON.utf8).write(to: sweep.evaluation(points[1]))  // step 200; its last test row is step 100

        let store = try ResultsStore(url: sweep.results)
        #expect(try store.appliedVersions() == ResultsStore.versions && ResultsStore.versions.count == 3)
        let summary = try SweepCollector(sweep: sweep, store: store).collect()
        #expect(summary.skipped.contains { $0.hasSuffix("\(points[1].id).json: evaluates step 200, not the run's last epoch; left out") },
            "\(summary.skipped)")
        let final = try store.finalPoints()
        #expect(final.map(\.psnrDb) == [14.75, nil])
        let probes = try store.probes()
        #expect(probes.map { "\($0.layer) \($0.features.rawValue) \($0.logisticAccuracy)" }
            == ["z1 mean 0.9", "z1 sample 0.8", "z2 mean 0.7", "z2 sample 0.5"])
        #expect(probes.allSatisfy { $0.pointId == points[0].id && $0.epoch == 2 && $0.classes == 10 && $0.heldOutExamples == 400 })
        #expect(probes[2].dimension == 20 && probes[2].nearestNeighbourAccuracy == 0.65 && probes[2].rateNats == 3.5
            && probes[2].boundAccuracy == 1 && probes[2].chanceAccuracy == 0.1175)
        let (_, rows) = try store.rows(of: .metrics)
        #expect(rows.filter { !$0.last!.isNull }.count == 1, "PSNR on one metrics row only")
        let before = try Self.tables(store)
        _ = try SweepCollector(sweep: sweep, store: store).collect()
        #expect(try Self.tables(store) == before)

        let csv = try ResultsExport.write(store, format: .csv, to: sweep.url.appendingPathComponent("export"))
        let table = try String(contentsOf: try #require(csv.last), encoding: .utf8).split(separator: "\n")
        let header = "point_id,epoch,layer,features,dimension,classes,held_out_examples,logistic_accuracy,"
            + "nearest_neighbour_accuracy,rate_nats,bound_accuracy,chance_accuracy"
        #expect(table.first.map(String.init) == header, "\(Array(table.first ?? "").suffix(3))")
        #expect(table.count == 5 && table[1].hasPrefix("\(points[0].id),2,z1,mean,784,10,400,0.9,0.875,12.5,"), "\(table)")
    }
}
