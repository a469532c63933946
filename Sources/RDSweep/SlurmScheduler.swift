import Foundation
import RDCompute

/// The Slurm commands rdlab uses — `sbatch`, `sacct`, `scontrol` — run as child processes
/// found on `PATH`, as on a cluster's login node.
public struct SlurmScheduler: Sendable {
    public init() {}

    /// Submits `script` with `sbatch --parsable` and returns the job id (`123`, or `123` of
    /// `123;cluster`).
    public func submit(_ script: URL) throws -> String {
        let output = try run("sbatch", ["--parsable", script.path])
        guard let id = output.split(separator: "\n").last?.split(separator: ";").first.map(String.init),
            !id.isEmpty, id.allSatisfy(\.isNumber)
        else { throw SlurmError.unexpected("sbatch", output) }
        return id
    }

    /// The state of every task of `jobs`: from `sacct` where accounting answers, and from
    /// `scontrol show job` (the controller's memory: pending, running and recently ended jobs)
    /// for every job sacct does not list — accounting is off (a single-node or test cluster),
    /// or has not caught up with a job just submitted.
    public func states(of jobs: [String]) throws -> [String: SlurmTaskState] {
        guard !jobs.isEmpty else { return [:] }
        var states: [String: SlurmTaskState] = [:]
        if let accounted = try? run("sacct", ["--noheader", "--parsable2", "--allocations",
            "--format=JobID,State,ExitCode,NodeList", "--jobs", jobs.joined(separator: ",")]) {
            states = SlurmTaskState.parse(sacct: accounted)
        }
        let listed = Set(states.keys.compactMap { $0.split(separator: "_").first.map(String.init) })
        for job in jobs where !listed.contains(job) {
            do {
                states.merge(SlurmTaskState.parse(scontrol: try run("scontrol", ["--oneliner", "show", "job", job]))) { $1 }
            } catch SlurmError.failed {
                continue  // a job the controller has forgotten: nothing to report for it
            }
        }
        return states
    }

    /// Runs `tool` with `arguments`; its standard output, or ``SlurmError``.
    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw SlurmError.missing(tool)
        }
        // stderr on another thread: a tool that fills one pipe while rdlab waits on the other would block
        nonisolated(unsafe) var errors = Data()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { errors = err.fileHandleForReading.readDataToEndOfFile() }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        reading.wait()
        process.waitUntilExit()
        let stderr = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            if process.terminationStatus == 127 { throw SlurmError.missing(tool) }
            throw SlurmError.failed(tool, process.terminationStatus, stderr)
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A Slurm command that is missing, failed, or answered what rdlab cannot read.
public enum SlurmError: ReportableError, Equatable {
    case missing(String)
    case failed(String, Int32, String)
    case unexpected(String, String)

    public var description: String {
        switch self {
        case let .missing(tool):
            "\(tool) not found on PATH: submit from a machine with Slurm's client commands (a cluster's login node), or run the sweep here with `rdlab sweep run SWEEP --jobs N`"
        case let .failed(tool, status, stderr):
            "\(tool) failed with exit status \(status): \(stderr.isEmpty ? "(no message)" : stderr)"
        case let .unexpected(tool, output):
            "\(tool) answered \(output.debugDescription), which is not a job id"
        }
    }
}
