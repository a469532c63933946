import Foundation
import RDCompute
import RDFiles
import RDLab

/// The files of a sweep:
///
/// ```
/// SWEEP/sweep.yaml          the spec, as given
/// SWEEP/points.json         the expanded points (index, id, axis values, flags)
/// SWEEP/runs/<id>/          one ordinary `rdlab train` run directory per point (made when it starts)
/// SWEEP/status/<id>.json    how the point's last `train` ended (written by the runner)
/// SWEEP/logs/<id>.log       what its `train` (and `eval`) printed
/// SWEEP/evaluations/<id>.json  its `rdlab eval --json`, where the spec has `evaluate:`
/// SWEEP/results.sqlite      the results store (`sweep collect`)
/// SWEEP/plots/              SVG and PNG plots
/// SWEEP/lock                held by `sweep run` while it runs
/// ```
///
/// The run directories are the source of truth; everything else can be rebuilt from them.
public struct SweepDirectory: Sendable {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public var spec: URL { url.appendingPathComponent("sweep.yaml") }
    public var plan: URL { url.appendingPathComponent("points.json") }
    public var results: URL { url.appendingPathComponent("results.sqlite") }
    public var plots: URL { url.appendingPathComponent("plots") }
    public var report: URL { url.appendingPathComponent("report.html") }

    public func run(_ point: SweepPoint) -> RunDirectory {
        RunDirectory(url: url.appendingPathComponent("runs").appendingPathComponent(point.id))
    }

    public func record(_ point: SweepPoint) -> URL {
        url.appendingPathComponent("status").appendingPathComponent("\(point.id).json")
    }

    public func evaluation(_ point: SweepPoint) -> URL {
        url.appendingPathComponent("evaluations").appendingPathComponent("\(point.id).json")
    }

    public func log(_ point: SweepPoint) -> URL {
        url.appendingPathComponent("logs").appendingPathComponent("\(point.id).log")
    }

    /// The plan file: the spec's name, combination and evaluation, and its points.
    public struct Plan: Codable, Equatable, Sendable {
        public var name: String
        public var combine: SweepSpec.Combination
        public var evaluate: SweepSpec.Evaluation?
        public var points: [SweepPoint]

        /// What makes a plan unusable: a point out of place, an id that is not its flags' hash
        /// (ids name folders), a repeated id, or points with different axes.
        var problem: String? {
            var seen = Set<String>()
            for (position, point) in points.enumerated() {
                if point.index != position { return "point \(position) says it is point \(point.index)" }
                if SweepPoint(index: position, axes: point.axes, settings: point.settings).id != point.id {
                    return "point \(position)'s id \(point.id) is not the hash of its flags"
                }
                if !seen.insert(point.id).inserted { return "points repeat the id \(point.id)" }
                if point.axes.map(\.axis) != points[0].axes.map(\.axis) { return "point \(position) has other axes than point 0" }
            }
            return nil
        }
    }

    /// Writes the spec and its points. A folder that holds the same plan is left as it is
    /// (returns false); one that holds another plan, or other files, is refused.
    @discardableResult
    public func create(yaml: String, spec: SweepSpec) throws -> Bool {
        let plan = Plan(name: spec.name, combine: spec.combination, evaluate: spec.evaluation, points: try spec.points())
        if FileManager.default.fileExists(atPath: self.plan.path) {
            let existing = try readPlan()
            // compared by id and words: JSON writes the number 1.0 as 1, which reads back as an integer
            func words(_ plan: Plan) -> [[String]] { plan.points.map { [$0.id, $0.label] + $0.arguments } }
            guard words(existing) == words(plan), existing.evaluate == plan.evaluate else {
                throw SweepError.planMismatch(url.path, existing.points.count)
            }
            return false
        }
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: url.path), !contents.isEmpty {
            throw SweepError.notEmpty(url.path)
        }
        try AtomicFile.write(Data(yaml.utf8), to: self.spec)
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(plan), to: self.plan)
        return true
    }

    /// Takes `SWEEP/lock` (held while the returned lock lives): what a local `sweep run` and
    /// `sweep submit` hold, so one process at a time trains or submits the sweep's points.
    public func lock() throws -> RunLock {
        do {
            return try RunLock(directory: url)
        } catch let RunLockError.held(_, holder) {
            throw SweepError.busy(url.path, holder?.description ?? "holder unknown")
        }
    }

    /// The plan written by ``create(yaml:spec:)``.
    public func readPlan() throws -> Plan {
        let data: Data
        do {
            data = try AtomicFile.read(plan)
        } catch let error as FileSystemError where error.code == ENOENT {
            throw SweepError.notASweep(url.path)
        }
        return try Self.decodePlan(data, file: plan.path)
    }

    /// Decodes and checks `points.json`'s bytes; errors name `file`.
    public static func decodePlan(_ data: Data, file: String) throws -> Plan {
        let decoder = JSONDecoder.rdlab
        let decoded: Plan
        do {
            decoded = try decoder.decode(Plan.self, from: data)
        } catch let error as DecodingError {
            throw SweepError.damaged(file, error.plainDescription)
        } catch {
            throw SweepError.damaged(file, "not JSON")
        }
        if let problem = decoded.problem {
            throw SweepError.damaged(file, "\(problem); it was edited outside rdlab: plan the spec again into a new folder")
        }
        return decoded
    }

    /// How the point's last `train` ended, if a runner recorded it.
    public func readRecord(_ point: SweepPoint) throws -> PointRecord? {
        let file = record(point)
        let data: Data
        do {
            data = try AtomicFile.read(file)
        } catch let error as FileSystemError where error.code == ENOENT {
            return nil
        }
        let decoder = JSONDecoder.rdlab
        do {
            return try decoder.decode(PointRecord.self, from: data)
        } catch {
            throw SweepError.damaged(file.path, "not a point record; delete it to run the point again")
        }
    }

    public func writeRecord(_ record: PointRecord, for point: SweepPoint) throws {
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(record), to: self.record(point))
    }
}

/// How a point's `rdlab train` ended.
public struct PointRecord: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case done, failed
    }

    public var state: State
    /// The exit status, or 128 + the signal that killed it.
    public var exitStatus: Int32
    /// The last lines it printed (a failure's reason).
    public var lastLines: [String]
    public var started: String
    public var finished: String
    /// Wall-clock seconds of this attempt.
    public var seconds: Double
    public var host: String

    public init(state: State, exitStatus: Int32, lastLines: [String], started: String, finished: String, seconds: Double, host: String) {
        self.state = state
        self.exitStatus = exitStatus
        self.lastLines = lastLines
        self.started = started
        self.finished = finished
        self.seconds = seconds
        self.host = host
    }
}

/// A sweep folder that cannot be used as asked; each names the folder or file and what to do.
public enum SweepError: ReportableError, Equatable {
    case notASweep(String)
    case notEmpty(String)
    case planMismatch(String, Int)
    case damaged(String, String)
    case busy(String, String)
    case noSuchTask(String, Int, Int)

    public var description: String {
        switch self {
        case let .notASweep(path):
            "\(path)/points.json not found: is \(path) a sweep? Make one with `rdlab sweep plan SPEC.yaml --out \(path)`"
        case let .notEmpty(path):
            "\(path) holds other files; plan the sweep into a new or empty folder"
        case let .planMismatch(path, count):
            "\(path) already holds a different plan (\(count) points); plan the changed spec into another --out"
        case let .damaged(file, reason):
            "\(file): \(reason)"
        case let .busy(path, holder):
            "\(path) is being run by another `rdlab sweep run` (\(holder)); wait for it, or run single points with --task"
        case let .noSuchTask(path, task, count):
            "\(path) has points 0 to \(count - 1); there is no task \(task)"
        }
    }
}
