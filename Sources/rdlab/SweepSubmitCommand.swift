import ArgumentParser
import Foundation
import RDFiles
import RDLab
import RDSweep

/// `rdlab sweep submit SWEEP --slurm`: the sweep's points as one Slurm job array.
struct SweepSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit the sweep's pending points to Slurm as a job array (task I trains point I).",
        discussion: """
            Writes SWEEP/slurm/array-<time>.sh, whose task I runs `rdlab sweep run SWEEP --task I` with this \
            rdlab binary (so the binary and the sweep folder must be on a file system every node sees), submits \
            it with `sbatch --parsable` and records the job id in SWEEP/slurm/jobs.json; `rdlab sweep status` \
            then asks Slurm about it. Points done, queued or running are never submitted twice. A task that \
            fails, times out or is cancelled leaves its point to `--failed`, which submits those alone; each \
            resumes from its checkpoint (Slurm's SIGTERM, sent --warning seconds before the time limit, makes \
            the point checkpoint and stop). Run `rdlab sweep collect` on the login node during or after the array.

              rdlab sweep submit sweeps/hit --slurm --max-concurrent 16 --partition gpu --gpus-per-task 1 --time 4:00:00
              rdlab sweep status sweeps/hit
              rdlab sweep submit sweeps/hit --slurm --failed
            """)

    @Argument(help: "The sweep folder (from `rdlab sweep plan`).") var sweep: String
    @Flag(help: "Submit to Slurm (the only batch scheduler so far).") var slurm = false
    @Flag(help: "Submit only the points whose task failed, timed out, ran out of memory or was cancelled, or whose training failed.") var failed = false
    @Flag(help: "Print the batch script and the points it would submit; submit nothing, write nothing.") var dryRun = false
    @Option(help: "Array tasks running at once (--array=…%K; default: no cap).") var maxConcurrent: Int?
    @Option(help: "sbatch --partition.") var partition: String?
    @Option(help: "sbatch --time: each task's limit (e.g. 4:00:00).") var time: String?
    @Option(help: "sbatch --mem: memory per node (e.g. 16G).") var mem: String?
    @Option(help: "sbatch --cpus-per-task.") var cpusPerTask: Int?
    @Option(help: "sbatch --gpus-per-task.") var gpusPerTask: Int?
    @Option(help: "sbatch --gres (e.g. gpu:a100:1).") var gres: String?
    @Option(help: "sbatch --account.") var account: String?
    @Option(help: "Any other sbatch option, as one #SBATCH line (repeatable; e.g. --sbatch-arg=--qos=short).") var sbatchArg: [String] = []
    @Option(help: "The backend of every task (RDLAB_BACKEND; default: as in this shell, which sbatch passes on; unset is auto: the task's GPU, else the CPU).") var backend: String?
    @Option(help: "Seconds before the time limit at which Slurm sends SIGTERM, so the point checkpoints (default 60, at most 65535).") var warning = 60

    func validate() throws {
        guard slurm else { throw ValidationError("choose the scheduler: --slurm (the only one so far); to train here, `rdlab sweep run \(sweep) --jobs N`") }
        if let maxConcurrent, maxConcurrent < 1 { throw ValidationError("--max-concurrent must be at least 1 (got \(maxConcurrent))") }
        for (flag, value) in [("--cpus-per-task", cpusPerTask), ("--gpus-per-task", gpusPerTask)] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1 (got \(value))") }
        }
        if !(0...65535).contains(warning) { throw ValidationError("--warning must be 0 to 65535 seconds, as sbatch --signal takes (got \(warning))") }
        for (flag, value) in [("--partition", partition), ("--time", time), ("--mem", mem), ("--gres", gres),
            ("--account", account), ("--backend", backend)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } == true }) {
                throw ValidationError("\(flag) takes one word without spaces (got \(value.debugDescription))")
            }
        }
        if let bad = sbatchArg.first(where: { !$0.hasPrefix("-") || $0.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) }) {
            throw ValidationError("--sbatch-arg takes one sbatch option on one line, such as --qos=short (got \(bad.debugDescription))")
        }
    }

    var request: SlurmRequest {
        SlurmRequest(maxConcurrent: maxConcurrent, partition: partition, time: time, memory: mem, cpusPerTask: cpusPerTask,
            gpusPerTask: gpusPerTask, gres: gres, account: account, extra: sbatchArg, backend: backend,
            warningSeconds: warning)
    }

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep).standardizedFileURL)
        if let problem = SbatchScript.problem(with: directory.url.path) { throw CleanExit.failure(problem) }
        let plan = try directory.readPlan()
        // one writer of slurm/jobs.json, and no local `sweep run` training the same points
        let lock = dryRun ? nil : try directory.lock()
        defer { withExtendedLifetime(lock) {} }
        let scheduler = SlurmScheduler()
        var jobs = try directory.readSlurmJobs()
        let states = try scheduler.states(of: jobs.submissions.map(\.job))
        let standings = try directory.scheduledStates(of: plan.points, jobs: jobs, states: states)
        let chosen = zip(plan.points, standings).filter { failed ? $1.standing == .failed : $1.submittable }.map(\.0.index)
        guard !chosen.isEmpty else {
            let counts = Dictionary(grouping: standings, by: \.standing).mapValues(\.count)
            let summary = ScheduledPointState.Standing.allCases.compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }
                .joined(separator: ", ")
            print("nothing to submit (\(summary))" + (!failed && counts[.failed] != nil ? "; resubmit the failed ones with --failed" : ""))
            return
        }
        let script = SbatchScript(sweep: directory, name: plan.name, points: chosen, request: request,
            executable: SweepRunCommand.executable)
        if dryRun {
            print(script.text, terminator: "")
            print("# would submit \(chosen.count) point(s): \(SbatchScript.arrayIndices(chosen))")
            return
        }
        let stamp = ISO8601DateFormatter().string(from: Date())
        let file = directory.slurm.appendingPathComponent("array-\(stamp.replacingOccurrences(of: ":", with: ""))-\(getpid()).sh")
        try AtomicFile.createDirectory(directory.slurmLogs)
        try AtomicFile.write(Data(script.text.utf8), to: file)
        let job = try scheduler.submit(file)
        jobs.submissions.append(SlurmJobs.Submission(job: job, points: chosen, script: "slurm/\(file.lastPathComponent)",
            submitted: stamp))
        do {
            try directory.writeSlurmJobs(jobs)
        } catch {
            throw CleanExit.failure("job array \(job) (points \(SbatchScript.arrayIndices(chosen))) was submitted, but "
                + "\(directory.slurmJobs.path) could not be written: \(error); until it holds the job, `status` does not know "
                + "those points are queued and `submit` would send them again (cancel with `scancel \(job)`, or add it by hand)")
        }
        print("submitted job array \(job): \(chosen.count) point(s) (tasks \(SbatchScript.arrayIndices(chosen)))"
            + (maxConcurrent.map { ", at most \($0) at a time" } ?? ""))
        print("follow it with `rdlab sweep status \(sweep)`; Slurm's logs are in \(directory.slurmLogs.path)")
    }
}
