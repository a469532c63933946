import Foundation
import RDFiles
import RDLab

extension SweepDirectory {
    /// `SWEEP/slurm/`: the batch scripts submitted, `jobs.json` and the tasks' Slurm logs.
    public var slurm: URL { url.appendingPathComponent("slurm") }
    /// `SWEEP/slurm/jobs.json`: every job array submitted for this sweep (``SlurmJobs``).
    public var slurmJobs: URL { slurm.appendingPathComponent("jobs.json") }
    /// `SWEEP/slurm/logs/`: what Slurm captured of each task (`<job>_<task>.out`).
    public var slurmLogs: URL { slurm.appendingPathComponent("logs") }

    /// The job arrays submitted so far (none when the file is absent).
    public func readSlurmJobs() throws -> SlurmJobs {
        let data: Data
        do {
            data = try AtomicFile.read(slurmJobs)
        } catch let error as FileSystemError where error.code == ENOENT {
            return SlurmJobs(submissions: [])
        }
        do {
            return try JSONDecoder.rdlab.decode(SlurmJobs.self, from: data)
        } catch {
            throw SweepError.damaged(slurmJobs.path, "not a list of Slurm submissions; `rdlab sweep status` works without it once it is moved away")
        }
    }

    public func writeSlurmJobs(_ jobs: SlurmJobs) throws {
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(jobs), to: slurmJobs)
    }
}

/// The job arrays submitted for a sweep, oldest first. Written only by `rdlab sweep submit`,
/// under the sweep's lock; the tasks never touch it.
public struct SlurmJobs: Codable, Equatable, Sendable {
    public struct Submission: Codable, Equatable, Sendable {
        /// Slurm's job id of the array (`sbatch --parsable`).
        public var job: String
        /// The points submitted: array task `I` trains point `I`.
        public var points: [Int]
        /// The batch script, relative to the sweep folder.
        public var script: String
        public var submitted: String

        public init(job: String, points: [Int], script: String, submitted: String) {
            self.job = job
            self.points = points
            self.script = script
            self.submitted = submitted
        }
    }

    public var submissions: [Submission]

    public init(submissions: [Submission]) {
        self.submissions = submissions
    }

    /// The Slurm task id of each point's latest submission (`<job>_<point>`).
    public var latestTask: [Int: String] {
        var tasks: [Int: String] = [:]
        for submission in submissions {
            for point in submission.points { tasks[point] = "\(submission.job)_\(point)" }
        }
        return tasks
    }
}
