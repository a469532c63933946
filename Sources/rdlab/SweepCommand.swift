import ArgumentParser
import Foundation
import RDLab
import RDSweep

/// `rdlab sweep`: many runs, one rate–distortion plane.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Plan, run and collect sweeps of many models over the rate–distortion plane.",
        discussion: """
            A sweep is a folder: its spec (YAML: `train:` flags shared by every point, `axes:` whose values \
            combine into points), one ordinary `rdlab train` run directory per point (runs/<id>, resumable), \
            and the results store (results.sqlite) that `collect` fills from the run directories.

              rdlab sweep plan Examples/sweeps/toy-target-rate.yaml --out sweeps/toy
              rdlab sweep run sweeps/toy --jobs 2
              rdlab sweep submit sweeps/toy --slurm --max-concurrent 8 --gpus-per-task 1   (a cluster)
              rdlab sweep status sweeps/toy
              rdlab sweep collect sweeps/toy --export csv
              rdlab sweep report sweeps/toy          (plots and report.html)
              rdlab sweep compare sweeps/toy sweeps/other
            """,
        subcommands: [SweepPlanCommand.self, SweepRunCommand.self, SweepSubmitCommand.self, SweepStatusCommand.self, SweepCollectCommand.self,
            SweepPlotCommand.self, SweepReportCommand.self, SweepCompareCommand.self])
}

/// `rdlab sweep plan SPEC --out SWEEP`.
struct SweepPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Expand a sweep spec into points, check each as `rdlab train` would, and write the sweep folder.",
        discussion: """
            Axes: a list (`seed: [1, 2, 3]`), a log or linear range (`beta: {log: [0.1, 10], points: 9}`, \
            `target_rate: {linear: [0, 3], points: 13}`), or a list of flag mappings \
            (`family: [{encoder: gaussian}, {encoder: iaf, decoder: pixelcnn}]`). `combine: product` (default) \
            takes every combination, the first axis slowest; `combine: zip` the i-th value of each. Point ids \
            are hashes of the point's flags, so they do not change when the spec is reordered.
            """)

    @Argument(help: "The sweep spec (YAML).") var spec: String
    @Option(help: "The sweep folder to write (default: sweeps/<name from the spec>).") var out: String?

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: spec, encoding: .utf8)
        } catch {
            throw CleanExit.failure("cannot read the sweep spec \(spec): \((error as NSError).localizedDescription)")
        }
        let parsed = try SweepSpec.parse(yaml: text, file: spec)
        let points = try parsed.points()
        for point in points {
            let command: TrainCommand
            do {
                command = try TrainCommand.parse(point.arguments + ["--out", "unused"])
            } catch {
                throw CleanExit.failure("\(spec): point \(point.index) (\(point.label)) is not a valid `rdlab train`: "
                    + TrainCommand.message(for: error))
            }
            if let problem = parsed.evaluation?.problem(of: "point \(point.index) (\(point.label))", trainedBy: command) {
                throw CleanExit.failure("\(spec): \(problem)")
            }
        }
        let sweep = SweepDirectory(url: URL(fileURLWithPath: out ?? "sweeps/\(parsed.name)"))
        let created = try sweep.create(yaml: text, spec: parsed)
        let shape = parsed.axes.map { "\($0.name) \($0.values.count)" }.joined(separator: parsed.combination == .product ? " × " : " zip ")
        print("\(sweep.url.path): \(points.count) points (\(shape))\(created ? "" : "; already planned, nothing changed")")
        for point in points.prefix(5) { print("  \(point.index)  \(point.id)  \(point.label)") }
        if points.count > 5 { print("  … \(points.count - 5) more in \(sweep.plan.path)") }
        print("next: rdlab sweep run \(sweep.url.path) --jobs N")
    }
}

/// `rdlab sweep run SWEEP [--jobs N | --task I]`.
struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train the points that are not done, N at a time, each as its own `rdlab train` process.",
        discussion: """
            Points resume from their checkpoints, so a sweep killed at any moment picks up where it stopped; \
            done points are skipped. A failed point is recorded (status/<id>.json: exit status, last lines; \
            its output is in logs/<id>.log) and the others go on. SIGINT/SIGTERM stops every child at a \
            checkpoint. --task I trains exactly point I and exits with its status: what a Slurm job-array \
            task calls (`--task $SLURM_ARRAY_TASK_ID`).
            """)

    @Argument(help: "The sweep folder (from `rdlab sweep plan`).") var sweep: String
    @Option(help: "Points trained at once, each in its own process (default 1).") var jobs: Int?
    @Option(help: "Train exactly point I (0-based, as `sweep status` lists them), failed before or not, and exit with its status (75 when another process trains it).") var task: Int?
    @Flag(help: "Train points that failed before again.") var retryFailed = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs))") }
        if let task {
            guard task >= 0 else { throw ValidationError("--task must be 0 or more (got \(task))") }
            if jobs != nil || retryFailed { throw ValidationError("--task trains one point; drop --jobs and --retry-failed") }
        }
    }

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep))
        let plan = try directory.readPlan()
        StopSignal.install()
        let runner = SweepRunner(sweep: directory, executable: Self.executable, evaluation: plan.evaluate) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))  // unbuffered: a log or `tee` sees each line as it happens
        }
        if let task {
            guard task < plan.points.count else { throw SweepError.noSuchTask(directory.url.path, task, plan.points.count) }
            let point = plan.points[task]
            if case .done = try PointState.of(point, in: directory) {
                print("point \(task) (\(point.label)) is done")
                return
            }
            print("point \(task) (\(point.label)): training in \(directory.run(point).url.path)")
            guard let record = try runner.trainForwardingSignals(point) else {
                if let signal = StopSignal.pending { throw ExitCode(128 + signal) }
                FileHandle.standardError.write(Data("rdlab: point \(task) is being trained by another process (see \(directory.log(point).path))\n".utf8))
                throw ExitCode(RunLockError.exitStatus)
            }
            print(String(format: "point %d %@ in %.1f s", task, record.state == .done ? "done" : "failed", record.seconds))
            if record.state == .failed {
                record.lastLines.suffix(3).forEach { print("    \($0)") }
                throw ExitCode(record.exitStatus)
            }
            return
        }
        let summary = try runner.run(plan.points, jobs: jobs ?? 1, retryFailed: retryFailed)
        if let signal = summary.interrupted { throw ExitCode(128 + signal) }
        if summary.failed > 0 {
            throw CleanExit.failure("\(summary.failed) point(s) failed; `rdlab sweep status \(sweep)` lists them with their last lines")
        }
    }

    /// This binary: the children are the same rdlab.
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}

/// `rdlab sweep status SWEEP`.
struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List the points as done, running, stopped, failed or pending, with an ETA.",
        discussion: """
            When job arrays were submitted with `rdlab sweep submit --slurm`, Slurm is asked too (`sacct`, \
            or `scontrol` where accounting is off): points queued or running there are listed so, and a task \
            that failed, timed out, ran out of memory or was cancelled makes its point failed, with the exit \
            code and node.
            """)

    @Argument(help: "The sweep folder.") var sweep: String

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep))
        let plan = try directory.readPlan()
        let jobs = try directory.readSlurmJobs()
        var states: [String: SlurmTaskState] = [:]
        if !jobs.submissions.isEmpty {
            do {
                states = try SlurmScheduler().states(of: jobs.submissions.map(\.job))
            } catch {
                FileHandle.standardError.write(Data("rdlab: warning: cannot ask Slurm (\(error)); showing the run directories only\n".utf8))
            }
        }
        var counts: [ScheduledPointState.Standing: Int] = [:]
        var seconds: [Double] = []
        var running = 0
        for (point, state) in zip(plan.points, try directory.scheduledStates(of: plan.points, jobs: jobs, states: states)) {
            counts[state.standing, default: 0] += 1
            var details: [String] = []
            switch state.point {
            case .done(let record):
                seconds.append(record.seconds)
                details.append(String(format: "%.1f s", record.seconds))
            case .failed(let record):
                details.append("exit \(record.exitStatus): \(record.lastLines.last ?? "")")
            case .running(let holder):
                details.append("\(holder)")
            case .stopped(let epochs):
                details.append("\(epochs) epoch(s) committed")
            case .pending: break
            }
            if state.standing == .running { running += 1 }
            if state.standing != .done, let slurm = state.slurmDetail { details.append(slurm) }
            let index = String(point.index), name = state.standing.rawValue
            print(String(repeating: " ", count: max(0, 4 - index.count)) + index + "  \(point.id)  " + name
                + String(repeating: " ", count: max(0, 8 - name.count)) + point.label
                + (details.isEmpty ? "" : "  (\(details.joined(separator: "; ")))"))
        }
        let shown = ScheduledPointState.Standing.allCases.filter { $0 != .queued || !jobs.submissions.isEmpty }
        let left = plan.points.count - (counts[.done] ?? 0) - (counts[.failed] ?? 0)
        var line = "\(plan.points.count) points: " + shown.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        if left > 0, !seconds.isEmpty {
            let eta = Double(left) * seconds.reduce(0, +) / Double(seconds.count) / Double(max(running, 1))
            line += "; ETA \(eta.durationText) at \(max(running, 1)) at a time"
        }
        print(line)
    }
}
