import Foundation
import RDLab

/// Where a point stands, read from its record and run directory (never from a runner's memory,
/// so every process that looks agrees).
public enum PointState: Equatable, Sendable {
    case pending
    /// Trained part of the way and stopped (a crash, a signal): the next run resumes it.
    case stopped(epochs: Int)
    case running(RunLock.Holder)
    case done(PointRecord)
    case failed(PointRecord)

    /// What `sweep status` groups by.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .stopped: "stopped"
        case .running: "running"
        case .done: "done"
        case .failed: "failed"
        }
    }

    /// Reads the point's state. A live lock holder means running, whatever the record says
    /// (a point can be started again after it failed).
    public static func of(_ point: SweepPoint, in sweep: SweepDirectory) throws -> PointState {
        let run = sweep.run(point)
        if let holder = RunLock.holder(of: run.url), holder.isAlive != false { return .running(holder) }
        switch try sweep.readRecord(point) {
        case let record? where record.state == .done: return .done(record)
        case let record? where record.state == .failed: return .failed(record)
        default: break
        }
        let epochs = committedEpochs(run)
        return FileManager.default.fileExists(atPath: run.checkpoint.path) ? .stopped(epochs: epochs) : .pending
    }

    /// The epochs with a test line in the run's `metrics.jsonl` (a torn or damaged line does
    /// not count).
    static func committedEpochs(_ run: RunDirectory) -> Int {
        let decoder = JSONDecoder.rdlab
        return Set(SweepCollector.lines(of: run.metrics).lines.compactMap { _, line in
            (try? decoder.decode(RunDirectory.Metrics.self, from: line)).flatMap { $0.split == .test ? $0.epoch : nil }
        }).count
    }
}
