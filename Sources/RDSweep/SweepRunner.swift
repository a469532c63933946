import Foundation
import RDCompute
import RDFiles
import RDLab
import Synchronization

/// Trains a sweep's points, each as a child `rdlab train` process with its own run directory,
/// so every point resumes from its checkpoint after a crash of the child or of the runner.
///
/// A point that exits 0 is recorded `done` and never trained again; one that exits otherwise
/// is recorded `failed` with its exit status and last lines and does not stop the others. A
/// point whose child was stopped by the runner's own SIGINT/SIGTERM, or found its run directory
/// taken by another process (exit status ``RunLockError/exitStatus``), gets no record: it is
/// resumed next time.
public final class SweepRunner: Sendable {
    /// The environment variable that names the runner to its children: a child whose parent
    /// is gone stops as on SIGTERM (checkpointed), so a runner killed with SIGKILL leaves no
    /// orphan holding a point's lock.
    public static let parentVariable = "RDLAB_PARENT_PID"
    /// How many of a failed point's last lines its record keeps.
    public static let keptLines = 12

    public let sweep: SweepDirectory
    /// The `rdlab` binary that trains each point.
    public let executable: URL
    /// What to evaluate after training (the sweep's `evaluate:`).
    public let evaluation: SweepSpec.Evaluation?
    private let say: @Sendable (String) -> Void
    /// The children running, and those already sent SIGTERM (once each).
    private let children = Mutex<(running: [Int32: Process], signalled: Set<Int32>)>(([:], []))

    public init(sweep: SweepDirectory, executable: URL, evaluation: SweepSpec.Evaluation?, say: @escaping @Sendable (String) -> Void) {
        self.sweep = sweep
        self.executable = executable
        self.evaluation = evaluation
        self.say = say
    }

    /// What a runner did.
    public struct Summary: Equatable, Sendable {
        public var trained = 0
        public var failed = 0
        /// Points left untouched: already done, or failed before (without `retryFailed`).
        public var skipped = 0
        /// The signal that stopped the runner, if one did.
        public var interrupted: Int32?
    }

    /// Trains every point not yet done, `jobs` at a time, in plan order. Holds `SWEEP/lock`.
    public func run(_ points: [SweepPoint], jobs: Int, retryFailed: Bool) throws -> Summary {
        let lock = try sweep.lock()
        defer { withExtendedLifetime(lock) {} }
        var summary = Summary()
        var pending: [SweepPoint] = []
        for point in points {
            switch try PointState.of(point, in: sweep) {
            case .done: summary.skipped += 1
            case .failed where !retryFailed:
                summary.skipped += 1
                say("point \(point.index) (\(point.label)) failed before; skipped (--retry-failed runs it again)")
            default: pending.append(point)  // a point another process trains is found busy by its child
            }
        }
        let queue = pending
        if queue.isEmpty {
            say("nothing to train: every point is done or skipped (\(summary.skipped))")
            return summary
        }
        say("training \(queue.count) of \(points.count) points, \(jobs) at a time")
        let state = Mutex((next: 0, finished: 0, summary: summary, seconds: [Double]()))
        let group = DispatchGroup()
        let started = Date()
        for _ in 0..<min(jobs, queue.count) {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                while StopSignal.pending == nil {
                    let taken: SweepPoint? = state.withLock { state in
                        guard state.next < queue.count else { return nil }
                        state.next += 1
                        return queue[state.next - 1]
                    }
                    guard let point = taken else { return }
                    let outcome: PointRecord?
                    do {
                        outcome = try train(point)
                    } catch {
                        say("point \(point.index) (\(point.label)): \(error)")
                        state.withLock {
                            $0.summary.failed += 1
                            $0.finished += 1
                        }
                        continue
                    }
                    guard let record = outcome else {
                        state.withLock { $0.finished += 1 }
                        if StopSignal.pending == nil {
                            say("point \(point.index) (\(point.label)) is being trained by another process; skipped")
                            state.withLock { $0.summary.skipped += 1 }
                        }
                        continue
                    }
                    let line = state.withLock { state -> String in
                        state.summary.trained += 1
                        state.finished += 1
                        if record.state == .failed { state.summary.failed += 1 }
                        state.seconds.append(record.seconds)
                        let left = queue.count - state.finished
                        let mean = state.seconds.reduce(0, +) / Double(state.seconds.count)
                        let eta = Double(left) * mean / Double(min(jobs, max(left, 1)))
                        return "[\(state.finished)/\(queue.count)] point \(point.index) (\(point.label)) "
                            + (record.state == .done ? "done" : "FAILED with status \(record.exitStatus)")
                            + String(format: " in %.1f s", record.seconds)
                            + (left > 0 ? " · \(left) to go, ETA \(eta.durationText)" : "")
                    }
                    say(line)
                    if record.state == .failed, let last = record.lastLines.last { say("    \(last)") }
                }
            }
        }
        forwardStopSignals(until: group)
        summary = state.withLock { $0.summary }
        summary.interrupted = StopSignal.pending
        say(String(format: "trained %d point(s) in %.1f s; %d failed", summary.trained, Date().timeIntervalSince(started), summary.failed))
        return summary
    }

    /// Trains one point in a child process (a new run, or `--resume` when it has a checkpoint),
    /// then, where the sweep asks for it, evaluates it (`rdlab eval --json` into
    /// `evaluations/<id>.json`), and records how it ended; `nil` when the runner's own stop
    /// signal ended it.
    public func train(_ point: SweepPoint) throws -> PointRecord? {
        let run = sweep.run(point)
        let resume = FileManager.default.fileExists(atPath: run.checkpoint.path)
        let logFile = sweep.log(point)
        try AtomicFile.createDirectory(logFile.deletingLastPathComponent())
        // O_APPEND: two processes that train the same point (one finds it busy) add to the log, never overwrite it
        let descriptor = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileSystemError.last(.write, path: logFile.path) }
        let log = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let logStart = UInt64(max(0, lseek(descriptor, 0, SEEK_END)))
        let startedAt = Date()
        guard var status = try child(["train"] + (resume ? ["--resume", run.url.path] : point.arguments + ["--out", run.url.path]), log: log),
              status != RunLockError.exitStatus
        else { return nil }
        if status == 0, let evaluation {
            // the point's own backend and data folder, if its flags name them
            let shared = point.settings.filter { ["backend", "data-dir"].contains($0.flag) }.flatMap(\.arguments)
            // its stdout goes to a scratch file (a pipe read after the exit could fill and stall the child)
            let result = sweep.evaluation(point)
            let scratch = result.deletingLastPathComponent().appendingPathComponent(".\(point.id).\(getpid()).out")
            try AtomicFile.createDirectory(scratch.deletingLastPathComponent())
            let fd = open(scratch.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileSystemError.last(.write, path: scratch.path) }
            defer { unlink(scratch.path) }
            guard let evaluated = try child(["eval", "--run", run.url.path] + evaluation.arguments + ["--json"] + shared, log: log,
                output: FileHandle(fileDescriptor: fd, closeOnDealloc: true)) else { return nil }
            status = evaluated
            if status == 0 {
                let printed = (try? Data(contentsOf: scratch)) ?? Data()
                let decoder = JSONDecoder.rdlab
                let decoded = try? decoder.decode(Evaluation.self, from: printed)
                if let decoded, !evaluation.probes || decoded.probes != nil {
                    try AtomicFile.write(printed, to: result)
                } else {
                    status = 1
                    let missing = decoded == nil ? "no evaluation" : "an evaluation without the probes `evaluate: {probes: true}` asks for"
                    try log.write(contentsOf: Data("rdlab sweep: `rdlab eval --json` exited 0 but printed \(missing)\n".utf8))
                }
            }
        }
        let record = PointRecord(state: status == 0 ? .done : .failed, exitStatus: status,
            lastLines: status == 0 ? [] : Self.lastLines(of: logFile, from: logStart),
            started: ISO8601DateFormatter().string(from: startedAt), finished: ISO8601DateFormatter().string(from: Date()),
            seconds: Date().timeIntervalSince(startedAt), host: ProcessInfo.processInfo.hostName)
        try sweep.writeRecord(record, for: point)
        return record
    }

    /// Runs `rdlab arguments…`, its stderr (and stdout, unless `output` takes it) appended to
    /// `log`; its exit status (128 + the signal that killed it), or `nil` when the runner's own
    /// stop signal came first or ended it.
    func child(_ arguments: [String], log: FileHandle, output: FileHandle? = nil) throws -> Int32? {
        try log.write(contentsOf: Data("== \(ISO8601DateFormatter().string(from: Date())) rdlab \(arguments.joined(separator: " "))\n".utf8))
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[Self.parentVariable] = String(getpid())
        process.environment = environment
        process.standardOutput = output ?? log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let launched = try children.withLock { children in
            guard StopSignal.pending == nil else { return false }
            try process.run()
            children.running[process.processIdentifier] = process
            return true
        }
        guard launched else { return nil }
        // an evaluation prints one line: the pipe never fills before the child exits
        process.waitUntilExit()
        children.withLock {
            $0.running[process.processIdentifier] = nil
            $0.signalled.remove(process.processIdentifier)
        }
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        if let signal = StopSignal.pending, status == 128 + signal || status == 128 + SIGTERM { return nil }
        return status
    }

    /// Trains one point (``train(_:)``) on its own thread while this one passes a SIGINT or
    /// SIGTERM of the runner on to the child (children run in their own process groups, so a
    /// terminal's Ctrl-C reaches only the runner).
    public func trainForwardingSignals(_ point: SweepPoint) throws -> PointRecord? {
        let result = Mutex<Result<PointRecord?, any Error>>(.success(nil))
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread { [self] in
            defer { group.leave() }
            let outcome = Result { try train(point) }
            result.withLock { $0 = outcome }
        }
        forwardStopSignals(until: group)
        return try result.withLock { $0 }.get()
    }

    /// Waits for `group`, sending SIGTERM to the children once the runner is asked to stop.
    func forwardStopSignals(until group: DispatchGroup) {
        while group.wait(timeout: .now() + 0.2) == .timedOut {
            if StopSignal.pending != nil { terminateChildren() }
        }
    }

    /// Sends SIGTERM to every child: each checkpoints and exits within a batch.
    public func terminateChildren() {
        children.withLock { children in
            for (pid, process) in children.running where process.isRunning && !children.signalled.contains(pid) {
                process.terminate()
                children.signalled.insert(pid)
            }
        }
    }

    /// The last ``keptLines`` lines the attempt that started at `offset` wrote.
    static func lastLines(of file: URL, from offset: UInt64) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: file.path) else { return [] }
        defer { try? handle.close() }
        let end = (try? handle.seekToEnd()) ?? offset
        let start = max(offset, end > 16_384 ? end - 16_384 : 0)
        try? handle.seek(toOffset: start)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return Array(text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("== ") }.suffix(keptLines))
    }
}
