import Foundation
import GRDB
import RDCompute

/// A sweep's results in one SQLite file (`results.sqlite`): what each point is, how its run
/// went, and its rate, distortion and −ELBO per epoch and split, and per latent layer.
///
/// The run directories are the source of truth: ``SweepCollector`` rebuilds a point's rows from
/// its run directory in one transaction, so collecting twice gives the same tables. The schema
/// is versioned by GRDB's migrator; a file of an older version is migrated when opened.
public final class ResultsStore {
    public let url: URL
    let database: DatabaseQueue

    /// The schema, oldest first. Add columns with a new migration; never edit an old one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: points, runs, metrics, layer rates") { db in
            try db.create(table: "points") { t in
                t.primaryKey("point_id", .text)
                t.column("idx", .integer).notNull()
                t.column("label", .text).notNull()
                t.column("axes", .text).notNull()
                t.column("flags", .text).notNull()
                t.column("model", .text)
                t.column("family", .text)
                t.column("objective", .text)
                t.column("objective_settings", .text)
                t.column("dataset", .text)
                t.column("seed", .integer)
            }
            try db.create(table: "runs") { t in
                t.primaryKey("point_id", .text).references("points", onDelete: .cascade)
                t.column("run_dir", .text).notNull()
                t.column("status", .text).notNull()
                t.column("exit_status", .integer)
                t.column("backend_requested", .text)
                t.column("backend_used", .text)
                t.column("device", .text)
                t.column("driver", .text)
                t.column("rdlab_version", .text)
                t.column("rdlab_commit", .text)
                t.column("started", .text)
                t.column("finished", .text)
                t.column("seconds", .double)
                t.column("host", .text)
            }
            try db.create(table: "metrics") { t in
                t.column("point_id", .text).notNull().references("points", onDelete: .cascade)
                t.column("epoch", .integer).notNull()
                t.column("split", .text).notNull()
                t.column("step", .integer).notNull()
                t.column("rate", .double).notNull()
                t.column("distortion", .double).notNull()
                t.column("neg_elbo", .double).notNull()
                t.column("beta", .double).notNull()
                t.column("seconds", .double).notNull()
                t.column("examples_per_second", .double)
                t.column("rate_floor", .double)
                t.primaryKey(["point_id", "epoch", "split"])
            }
            try db.create(table: "layer_rates") { t in
                t.column("point_id", .text).notNull().references("points", onDelete: .cascade)
                t.column("epoch", .integer).notNull()
                t.column("split", .text).notNull()
                t.column("layer", .text).notNull()
                t.column("rate", .double).notNull()
                t.column("beta", .double)
                t.primaryKey(["point_id", "epoch", "split", "layer"])
            }
        }
        migrator.registerMigration("v2: IWAE bound per metrics row") { db in
            try db.alter(table: "metrics") { t in
                t.add(column: "neg_iwae", .double)  // −(the IWAE bound), nats: −ELBO ≥ neg_iwae ≥ −log p(x)
                t.add(column: "iwae_samples", .integer)
            }
        }
        migrator.registerMigration("v3: PSNR per metrics row, probes") { db in
            try db.alter(table: "metrics") { t in
                t.add(column: "psnr_db", .double)  // PSNR of the mean-path reconstructions, dB (HIT; `eval --probes`)
            }
            // one row per point, latent layer and features (posterior means or one sample): `eval --probes`
            try db.create(table: "probes") { t in
                t.column("point_id", .text).notNull().references("points", onDelete: .cascade)
                t.column("epoch", .integer).notNull()  // the last test epoch, which the evaluation is of
                t.column("layer", .text).notNull()
                t.column("features", .text).notNull()  // ProbeFeatures: mean | sample
                t.column("dimension", .integer).notNull()
                t.column("classes", .integer).notNull()  // M
                t.column("held_out_examples", .integer).notNull()
                t.column("logistic_accuracy", .double).notNull()
                t.column("nearest_neighbour_accuracy", .double).notNull()
                t.column("rate_nats", .double).notNull()  // the layer's information budget Σ_{l'≥l} R_l'
                t.column("bound_accuracy", .double).notNull()  // g⁻¹(rate_nats), H(Y) of the held-out labels
                t.column("chance_accuracy", .double).notNull()  // the majority class's frequency
                t.primaryKey(["point_id", "layer", "features"])
            }
        }
        return migrator
    }

    /// The identifiers of every migration, oldest first.
    public static var versions: [String] { migrator.migrations }

    /// Opens (creating) the store and brings its schema up to date.
    public init(url: URL, upTo version: String? = nil) throws {
        self.url = url
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(30)  // another collect or report writes it
            database = try DatabaseQueue(path: url.path, configuration: configuration)
            if let version {
                try Self.migrator.migrate(database, upTo: version)
            } else {
                try Self.migrator.migrate(database)
            }
        } catch let error as DatabaseError {
            throw ResultsStoreError(url.path, error)
        }
    }

    /// The migrations applied to this file.
    public func appliedVersions() throws -> [String] {
        try database.read { try Self.migrator.appliedMigrations($0) }
    }

    /// Replaces everything stored about `point` with `rows`, in one transaction.
    func replace(_ rows: PointRows) throws {
        do {
            try database.write { db in
                try db.execute(sql: "DELETE FROM points WHERE point_id = ?", arguments: [rows.point.pointId])
                try rows.point.insert(db)
                try rows.run.insert(db)
                for metric in rows.metrics { try metric.insert(db) }
                for layer in rows.layerRates { try layer.insert(db) }
                for probe in rows.probes { try probe.insert(db) }
            }
        } catch let error as DatabaseError {
            throw ResultsStoreError(url.path, error)
        }
    }

    /// Every row of `table` as column → value, ordered by its key, for export and tests.
    public func rows(of table: ResultsTable) throws -> (columns: [String], rows: [[DatabaseValue]]) {
        try database.read { db in
            let columns = try db.columns(in: table.rawValue).map(\.name)
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table.rawValue) ORDER BY \(table.order)")
            return (columns, rows.map { row in columns.map { row[$0] as DatabaseValue } })
        }
    }

    /// The test-split rows of every point's last epoch, joined with the point: what the R–D
    /// plane plots.
    public func finalPoints() throws -> [FinalPoint] {
        try database.read { db in
            try FinalPoint.fetchAll(db, sql: """
                SELECT p.point_id, p.idx, p.label, p.family, p.model, p.objective, m.epoch, m.rate, m.distortion, m.neg_elbo, m.beta,
                    m.psnr_db
                FROM points p JOIN metrics m ON m.point_id = p.point_id AND m.split = 'test'
                WHERE m.epoch = (SELECT MAX(epoch) FROM metrics WHERE point_id = p.point_id AND split = 'test')
                ORDER BY p.idx
                """)
        }
    }

    /// The rate of each latent layer at each point's last test epoch: point id → layer → nats.
    public func finalLayerRates() throws -> [String: [String: Double]] {
        try database.read { db in
            var rates: [String: [String: Double]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT l.point_id, l.layer, l.rate FROM layer_rates l
                WHERE l.split = 'test' AND l.epoch = (SELECT MAX(epoch) FROM metrics WHERE point_id = l.point_id AND split = 'test')
                """) {
                rates[row["point_id"], default: [:]][row["layer"]] = row["rate"]
            }
            return rates
        }
    }

    /// The probes of every point (`evaluate: {probes: true}`), in plan order, then layer and features.
    public func probes() throws -> [ProbeResult] {
        try database.read { db in
            try ProbeResult.fetchAll(db, sql: """
                SELECT r.* FROM probes r JOIN points p ON p.point_id = r.point_id ORDER BY p.idx, r.layer, r.features
                """)
        }
    }

    /// One point's test rows, epoch by epoch: its path through the plane.
    public func trajectory(of pointId: String, split: String = "test") throws -> [(epoch: Int, rate: Double, distortion: Double)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT epoch, rate, distortion FROM metrics WHERE point_id = ? AND split = ? ORDER BY epoch",
                arguments: [pointId, split]).map { ($0["epoch"], $0["rate"], $0["distortion"]) }
        }
    }
}

/// The tables of the store, as `--export` writes them.
public enum ResultsTable: String, CaseIterable, Sendable {
    case points, runs, metrics
    case layerRates = "layer_rates"
    case probes

    var order: String {
        switch self {
        case .points: "idx"
        case .runs: "point_id"
        case .metrics: "point_id, epoch, split"
        case .layerRates: "point_id, epoch, split, layer"
        case .probes: "point_id, layer, features"
        }
    }
}

/// A point's place in the plane at the end of its run (test split).
public struct FinalPoint: Codable, FetchableRecord, Equatable, Sendable {
    public var pointId: String
    public var idx: Int
    public var label: String
    public var family: String?
    public var model: String?
    public var objective: String?
    public var epoch: Int
    public var rate: Double
    public var distortion: Double
    public var negElbo: Double
    public var beta: Double
    /// PSNR of the reconstructions in dB, where the point was evaluated with probes.
    public var psnrDb: Double?

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
}

/// The store cannot be opened or written; names the file and what to do.
public enum ResultsStoreError: ReportableError, Equatable {
    /// Another process held it for longer than the wait.
    case busy(String)
    case database(String, String)

    init(_ path: String, _ error: DatabaseError) {
        self = error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
            ? .busy(path) : .database(path, error.message ?? "\(error.resultCode)")
    }

    public var description: String {
        switch self {
        case let .busy(path): "\(path) is being written by another rdlab process (collect, plot, report); try again when it is done"
        case let .database(path, message): "\(path): \(message) (the store is rebuilt from the run directories: delete it and run `rdlab sweep collect` again)"
        }
    }
}
