import Foundation

/// Where a point stands once the scheduler is asked too: its run directory's state, and the
/// latest Slurm task that was to train it.
public struct ScheduledPointState: Equatable, Sendable {
    public var point: PointState
    /// The latest array task submitted for the point, and what Slurm says of it (nil: Slurm
    /// no longer knows it, or it was never submitted).
    public var task: String?
    public var slurm: SlurmTaskState?

    public init(point: PointState, task: String?, slurm: SlurmTaskState?) {
        self.point = point
        self.task = task
        self.slurm = slurm
    }

    /// What `sweep status` lists and counts, in this order.
    public enum Standing: String, CaseIterable, Sendable {
        case done, running, queued, stopped, failed, pending
    }

    /// Done by its run directory; else queued or running by Slurm; failed when either says so
    /// (a cancelled, timed-out or killed task leaves a stopped run directory); else the run
    /// directory's state.
    public var standing: Standing {
        switch (point, slurm?.state) {
        case (.done, _): .done
        case (_, .pending?), (_, .other?): .queued
        case (_, .running?): .running
        case (_, let state?) where state.endedEarly: .failed
        case (.running, _): .running
        case (.failed, _): .failed
        case (.stopped, _): .stopped
        case (.pending, _): .pending
        }
    }

    /// Whether a plain `submit` sends it: not done, not queued or running anywhere, and not
    /// failed (those wait for `--failed`).
    public var submittable: Bool { standing == .pending || standing == .stopped }

    /// Slurm's view for a status line: `job 12_3 running on node7`, `job 12_4 timed out (exit 0:15) on node7`.
    public var slurmDetail: String? {
        guard let task else { return nil }
        guard let slurm else { return "job \(task)" }
        var text = "job \(task) \(slurm.state.name)"
        if let reason = slurm.reason, slurm.state == .pending { text += " (\(reason))" }
        if slurm.state.endedEarly, let code = slurm.exitCode {
            // 143: `sweep run` stopped by SIGTERM (time limit, preemption, scancel) at a checkpoint
            text += code.hasPrefix("143:") || code == "0:15" ? " (stopped by SIGTERM at a checkpoint)" : " (exit \(code))"
        }
        if let node = slurm.node, slurm.state != .pending { text += " on \(node)" }
        return text
    }
}

extension SweepDirectory {
    /// Each point's state with the scheduler's view merged in (`SlurmJobs` and `states`).
    public func scheduledStates(of points: [SweepPoint], jobs: SlurmJobs,
        states: [String: SlurmTaskState]) throws -> [ScheduledPointState] {
        let tasks = jobs.latestTask
        return try points.map { point in
            let task = tasks[point.index]
            return ScheduledPointState(point: try PointState.of(point, in: self), task: task, slurm: task.flatMap { states[$0] })
        }
    }
}
