import Foundation
import RDSweep
import Testing

/// `rdlab sweep submit --slurm` against a real single-node Slurm (`scripts/slurm-local`: munged,
/// slurmctld and slurmd on this machine). `RDLAB_TEST_REQUIRE_SLURM=1` (set by `scripts/test`)
/// makes a machine that cannot run it a failure that says why, never a silent skip.
@Suite("rdlab sweep on Slurm", .serialized)
struct SlurmIntegrationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var required: Bool { ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_SLURM"] == "1" }

    /// A cluster in `directory`, or the reason there is none.
    static func startCluster(in directory: URL) -> Result<String, SlurmUnavailable> {
        let process = Process()
        process.executableURL = repository.appendingPathComponent("scripts/slurm-local")
        process.arguments = ["start", directory.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure(SlurmUnavailable(reason: "cannot run scripts/slurm-local: \(error)")) }
        _ = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return .failure(SlurmUnavailable(reason: stderr)) }
        return .success(directory.appendingPathComponent("slurm.conf").path)
    }

    static func stopCluster(in directory: URL) {
        let process = Process()
        process.executableURL = repository.appendingPathComponent("scripts/slurm-local")
        process.arguments = ["stop", directory.path]
        try? process.run()
        process.waitUntilExit()
    }

    struct SlurmUnavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String { "no Slurm cluster on this machine: \(reason)" }
    }

    /// Polls `sweep status` until no point is queued or running.
    static func waitForTheArray(_ sweep: URL, environment: [String: String?], seconds: Double = 600) throws -> RDLabProcess.Output {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let status = try RDLabProcess.run(["sweep", "status", sweep.path], environment: environment)
            let summary = status.stdout.split(separator: "\n").last.map(String.init) ?? ""
            if summary.contains(" 0 running, 0 queued") || Date() > deadline { return status }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    static func command(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    /// A 6-point toy sweep as a job array capped at 2 tasks: one task cancelled mid-run shows as
    /// failed, `submit --failed` re-runs it alone, and `collect` then gives the same table as the
    /// same sweep trained here with `--jobs 2`.
    @Test func aJobArrayTrainsTheSweepAndReRunsWhatFailed() throws {
        let root = try RDLabProcess.temporaryDirectory("slurm")
        defer { try? FileManager.default.removeItem(at: root) }
        let clusterDirectory = root.appendingPathComponent("cluster")
        let conf: String
        switch Self.startCluster(in: clusterDirectory) {
        case .success(let path): conf = path
        case .failure(let unavailable):
            if Self.required { Issue.record("\(unavailable)") } else { print("skipping the Slurm tests: \(unavailable)") }
            return
        }
        defer { Self.stopCluster(in: clusterDirectory) }
        let environment: [String: String?] = ["SLURM_CONF": conf, "RDLAB_BACKEND": "cpu"]
        let spec = root.appendingPathComponent("toy6.yaml")
        try Data("name: toy6\ntrain: {model: toy, toy_init: ordered, epochs: 40}\naxes: {target_rate: {linear: [0.5, 3], points: 6}}\n".utf8)
            .write(to: spec)
        let onSlurm = root.appendingPathComponent("slurm-sweep"), local = root.appendingPathComponent("local-sweep")
        for folder in [onSlurm, local] {
            #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", folder.path]).status == 0)
        }

        let submitted = try RDLabProcess.run(["sweep", "submit", onSlurm.path, "--slurm", "--max-concurrent", "2"], environment: environment)
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        #expect(submitted.stdout.contains("6 point(s) (tasks 0-5), at most 2 at a time"), "\(submitted.stdout)")
        let job = try #require(SweepDirectory(url: onSlurm).readSlurmJobs().submissions.first?.job)
        let again = try RDLabProcess.run(["sweep", "submit", onSlurm.path, "--slurm"], environment: environment)
        #expect(again.status == 0 && again.stdout.contains("nothing to submit"), "queued points are not submitted twice: \(again.stdout)")

        // cancel the first task once it trains (its point has committed an epoch)
        let slurm = ["SLURM_CONF": conf]
        let deadline = Date().addingTimeInterval(120)
        var cancelled: String?
        while cancelled == nil, Date() < deadline {
            let running = try Self.command("squeue", ["-h", "-r", "-t", "RUNNING", "-j", job, "-o", "%i"], environment: slurm)
                .split(separator: "\n").map(String.init)
            if let task = running.first,
                let point = Int(task.split(separator: "_").last ?? ""),
                FileManager.default.fileExists(atPath: onSlurm.appendingPathComponent("runs").path),
                try RDLabProcess.run(["sweep", "status", onSlurm.path], environment: environment).stdout
                    .split(separator: "\n").contains(where: { $0.hasPrefix(String(repeating: " ", count: 3) + "\(point)") && $0.contains("running") }) {
                _ = try Self.command("scancel", [task], environment: slurm)
                cancelled = task
            } else {
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        let task = try #require(cancelled, "no task of job \(job) was seen running within 120 s")
        let point = try #require(Int(task.split(separator: "_").last ?? ""))

        let afterArray = try Self.waitForTheArray(onSlurm, environment: environment)
        #expect(afterArray.stdout.contains("5 done, 0 running, 0 queued, 0 stopped, 1 failed, 0 pending"), "\(afterArray.stdout)")
        let line = afterArray.stdout.split(separator: "\n").first { $0.hasPrefix("   \(point)  ") }.map(String.init) ?? ""
        #expect(line.contains("failed") && line.contains("job \(task) cancelled"), "\(afterArray.stdout)")

        let plain = try RDLabProcess.run(["sweep", "submit", onSlurm.path, "--slurm"], environment: environment)
        #expect(plain.stdout.contains("nothing to submit (5 done, 1 failed); resubmit the failed ones with --failed"), "\(plain.stdout)")
        let retry = try RDLabProcess.run(["sweep", "submit", onSlurm.path, "--slurm", "--failed"], environment: environment)
        #expect(retry.status == 0 && retry.stdout.contains("1 point(s) (tasks \(point))"), "\(retry.stdout)\(retry.stderr)")
        let finished = try Self.waitForTheArray(onSlurm, environment: environment)
        #expect(finished.stdout.contains("6 points: 6 done, 0 running, 0 queued, 0 stopped, 0 failed, 0 pending"), "\(finished.stdout)")

        let run = try RDLabProcess.run(["sweep", "run", local.path, "--jobs", "2"], environment: ["RDLAB_BACKEND": "cpu"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        for folder in [onSlurm, local] { #expect(try RDLabProcess.run(["sweep", "collect", folder.path]).status == 0) }
        let table = { (folder: URL) in
            try ResultsStore(url: SweepDirectory(url: folder).results).finalPoints().map { "\($0.label) R \($0.rate) D \($0.distortion)" }
        }
        #expect(try table(onSlurm).count == 6)
        #expect(try table(onSlurm) == table(local))
    }

    /// The batch script for a GPU cluster, against the checked-in expected file.
    @Test func theScriptForAGPUClusterIsAsExpected() throws {
        let root = try RDLabProcess.temporaryDirectory("slurm-script")
        defer { try? FileManager.default.removeItem(at: root) }
        let sweep = root.appendingPathComponent("hit")
        #expect(try RDLabProcess.run(["sweep", "plan", Self.repository.appendingPathComponent("Examples/sweeps/hit-mnist-small.yaml").path,
            "--out", sweep.path]).status == 0)
        let dry = try RDLabProcess.run(["sweep", "submit", sweep.path, "--slurm", "--dry-run", "--max-concurrent", "4",
            "--partition", "gpu", "--gpus-per-task", "1", "--time", "4:00:00", "--mem", "16G", "--cpus-per-task", "4",
            "--account", "vision", "--sbatch-arg=--qos=short"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let expected = try String(contentsOf: Self.repository.appendingPathComponent("Tests/Fixtures/slurm/gpu-cluster.sbatch"), encoding: .utf8)
        let actual = dry.stdout.replacingOccurrences(of: sweep.path, with: "SWEEP")
            .replacingOccurrences(of: RDLabProcess.executable.resolvingSymlinksInPath().path, with: "RDLAB")
        #expect(actual == expected, "\(actual)")
        #expect(!FileManager.default.fileExists(atPath: sweep.appendingPathComponent("slurm").path), "--dry-run writes nothing")
    }
}
