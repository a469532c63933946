import Foundation

/// What a sweep's Slurm job array asks of the scheduler, passed through to `#SBATCH` lines.
public struct SlurmRequest: Equatable, Sendable {
    /// Array tasks running at once (`--array=…%K`); nil: as many as Slurm allows.
    public var maxConcurrent: Int?
    public var partition: String?
    /// Wall-clock limit per task, in any form `sbatch --time` takes (`4:00:00`, `1-00:00:00`).
    public var time: String?
    /// Memory per node (`16G`).
    public var memory: String?
    public var cpusPerTask: Int?
    public var gpusPerTask: Int?
    /// Generic resources (`gpu:a100:1`).
    public var gres: String?
    public var account: String?
    /// Further `sbatch` options, each as one `#SBATCH` line (`--qos=short`, `--constraint=a100`).
    public var extra: [String]
    /// The backend of every task (`RDLAB_BACKEND`); nil leaves the tasks the submitter's
    /// environment (sbatch's default `--export=ALL`), where an unset `RDLAB_BACKEND` is `auto`:
    /// the task's GPU, else the CPU.
    public var backend: String?
    /// Seconds before the time limit at which Slurm sends SIGTERM, so the point checkpoints
    /// and a later submission resumes it (`--signal=B:TERM@N`).
    public var warningSeconds: Int

    public init(maxConcurrent: Int? = nil, partition: String? = nil, time: String? = nil, memory: String? = nil,
        cpusPerTask: Int? = nil, gpusPerTask: Int? = nil, gres: String? = nil, account: String? = nil,
        extra: [String] = [], backend: String? = nil, warningSeconds: Int = 60) {
        self.maxConcurrent = maxConcurrent
        self.partition = partition
        self.time = time
        self.memory = memory
        self.cpusPerTask = cpusPerTask
        self.gpusPerTask = gpusPerTask
        self.gres = gres
        self.account = account
        self.extra = extra
        self.backend = backend
        self.warningSeconds = warningSeconds
    }
}

/// The batch script of a sweep's job array: task `I` of the array trains point `I`
/// (`rdlab sweep run SWEEP --task $SLURM_ARRAY_TASK_ID`), so the array's indices are the
/// points submitted, contiguous or not (`--array=0-5%2`, `--array=3,7`).
///
/// The script `exec`s rdlab, so Slurm's SIGTERM (time limit, preemption, `scancel`) reaches
/// `sweep run`, which stops the point's `train` at a checkpoint. Every task writes only its
/// own run directory, record and log in the sweep folder; nothing else is shared.
public struct SbatchScript: Sendable {
    public let sweep: SweepDirectory
    /// The sweep's name (the job's name is `rdlab-<name>`).
    public let name: String
    /// The points submitted, ascending.
    public let points: [Int]
    public let request: SlurmRequest
    /// The `rdlab` binary the tasks run (absolute: the tasks start in another directory).
    public let executable: URL

    public init(sweep: SweepDirectory, name: String, points: [Int], request: SlurmRequest, executable: URL) {
        self.sweep = sweep
        self.name = name
        self.points = points.sorted()
        self.request = request
        self.executable = executable
    }

    /// The job's name: `rdlab-` and the sweep's name, every character but letters, digits,
    /// `.`, `_` and `-` made `-` (the name goes into an `#SBATCH` line and a comment).
    public var jobName: String {
        "rdlab-" + String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" })
    }

    /// Why `path` cannot be written into the script as it is: sbatch splits `#SBATCH` lines at
    /// spaces and reads `%` in `--output` as a pattern. Nil when it can.
    public static func problem(with path: String) -> String? {
        guard let bad = path.first(where: { $0.isWhitespace || $0 == "%" || $0 == "\"" || $0 == "'" || $0.asciiValue.map { $0 < 32 } == true })
        else { return nil }
        return "the sweep's path \(path.debugDescription) holds \(String(bad).debugDescription), which an sbatch script cannot carry; move the sweep to a path without spaces, quotes or %"
    }

    /// `0-5`, `3,7,9-11`: runs of consecutive indices as ranges.
    public static func arrayIndices(_ points: [Int]) -> String {
        var parts: [String] = []
        var start: Int?, previous: Int?
        for point in points.sorted() {
            if let p = previous, point == p + 1 {
                previous = point
                continue
            }
            if let s = start, let p = previous { parts.append(s == p ? "\(s)" : "\(s)-\(p)") }
            start = point
            previous = point
        }
        if let s = start, let p = previous { parts.append(s == p ? "\(s)" : "\(s)-\(p)") }
        return parts.joined(separator: ",")
    }

    /// The `#SBATCH` options, in a fixed order.
    public var options: [String] {
        var options = ["--job-name=\(jobName)",
            "--array=\(Self.arrayIndices(points))" + (request.maxConcurrent.map { "%\($0)" } ?? ""),
            "--output=\(sweep.slurmLogs.path)/%A_%a.out",
            "--signal=B:TERM@\(request.warningSeconds)"]
        if let v = request.partition { options.append("--partition=\(v)") }
        if let v = request.account { options.append("--account=\(v)") }
        if let v = request.time { options.append("--time=\(v)") }
        if let v = request.memory { options.append("--mem=\(v)") }
        if let v = request.cpusPerTask { options.append("--cpus-per-task=\(v)") }
        // sbatch wants an explicit task count with --gpus-per-task
        if let v = request.gpusPerTask { options += ["--ntasks=1", "--gpus-per-task=\(v)"] }
        if let v = request.gres { options.append("--gres=\(v)") }
        return options + request.extra
    }

    public var text: String {
        var lines = ["#!/bin/bash",
            "# \(jobName): \(points.count) point(s) of a sweep as one Slurm job array; task I trains point I.",
            "# Written by `rdlab sweep submit --slurm`; resubmit what failed with `--failed`."]
        lines += options.map { "#SBATCH \($0)" }
        lines.append("set -euo pipefail")
        if let backend = request.backend { lines.append("export RDLAB_BACKEND=\(Self.quoted(backend))") }
        lines.append("exec \(Self.quoted(executable.path)) sweep run \(Self.quoted(sweep.url.path)) --task \"$SLURM_ARRAY_TASK_ID\"")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A word for the shell, single-quoted unless it needs no quoting.
    static func quoted(_ word: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+,@%")
        if !word.isEmpty, word.unicodeScalars.allSatisfy(plain.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
