import Foundation
import RDLab
import RDTestSupport
import Testing

/// No crash, signal, full disk, second process or damaged file loses or corrupts a run
/// (issue 15), end to end through the `rdlab` executable on the binarized-MNIST fixtures.
@Suite("rdlab run safety", .serialized)
struct RunSafetyIntegrationTests {
    /// A small run: 100 training examples in batches of 50 (2 steps an epoch), 50 test examples.
    static func train(_ out: URL, _ extra: [String]) -> [String] {
        ["train", "--backend", "cpu", "--data-dir", TestDatasets.fixtures, "--train-limit", "100", "--test-limit", "50",
            "--batch-size", "50", "--latent-dim", "8", "--seed", "4", "--out", out.path] + extra
    }

    static func resume(_ run: URL, _ extra: [String] = []) -> [String] {
        ["train", "--resume", run.path, "--data-dir", TestDatasets.fixtures] + extra
    }

    static func metrics(_ run: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.jsonl").path) else { return [] }
        return try TrainIntegrationTests.metrics(run)
    }

    /// (epoch, split) of every metrics line.
    static func keys(_ run: URL) throws -> [String] {
        try metrics(run).map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return "\(object["epoch"] ?? "?")/\(object["split"] ?? "?")"
        }
    }

    static func checkpointStep(_ run: URL) throws -> Int {
        try Checkpoint.header(of: run.appendingPathComponent("checkpoint.safetensors")).checkpoint.step
    }

    @Test func aSecondWriterIsRefusedAndADeadOnesLockIsTakenOver() throws {
        let root = try RDLabProcess.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let first = try RunningRDLab(Self.train(run, ["--epochs", "40"]))
        #expect(first.waitFor("run directory"), "\(first.stderr)")
        let pid = first.process.processIdentifier
        for arguments in [Self.train(run, ["--epochs", "1"]), Self.resume(run)] {
            let second = try RDLabProcess.run(arguments)
            #expect(second.status == 75, "\(second.stderr)")
            #expect(second.stderr.contains("is in use by another rdlab process (pid \(pid) on "), "\(second.stderr)")
        }
        #expect(first.waitFor("epoch 1: train"), "\(first.stderr)")
        first.signal(SIGTERM)
        #expect(first.wait() == 143, "\(first.stderr)")
        #expect(first.stderr.contains("signal 15"))
        #expect(try Self.keys(run).prefix(2) == ["1/train", "1/test"])

        let killed = try RunningRDLab(Self.resume(run, ["--epochs", "40"]))
        #expect(killed.waitFor("resuming"), "\(killed.stderr)")
        killed.signal(SIGKILL)
        #expect(killed.wait() == 128 + SIGKILL)
        let epochs = try Self.keys(run).count / 2
        let after = try RDLabProcess.run(Self.resume(run, ["--epochs", "\(epochs + 1)"]))
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stderr.contains("taking over the lock of pid \(killed.process.processIdentifier) on "), "\(after.stderr)")
        let keys = try Self.keys(run)
        #expect(keys == (1...(epochs + 1)).flatMap { ["\($0)/train", "\($0)/test"] })
    }

    /// SIGKILL at random instants across three epochs, each time resuming, and a crash state
    /// made by hand in the window between an epoch's metrics and its checkpoint: every
    /// (epoch, split) once, and the same numbers as a run never interrupted.
    @Test func killedAtAnyInstantResumesToTheSameNumbers() throws {
        let root = try RDLabProcess.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let reference = root.appendingPathComponent("reference"), killed = root.appendingPathComponent("killed")
        let straight = try RDLabProcess.run(Self.train(reference, ["--epochs", "3"]))
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try Self.metrics(reference)
        #expect(expected.count == 6)

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        while true {
            let resuming = FileManager.default.fileExists(atPath: killed.appendingPathComponent("checkpoint.safetensors").path)
            let process = try RunningRDLab(resuming ? Self.resume(killed) : Self.train(killed, ["--epochs", "3"]))
            let deadline = Date().addingTimeInterval(Double.random(in: 0.2...3, using: &generator))
            while process.process.isRunning && Date() < deadline { usleep(10_000) }
            if process.process.isRunning && kills < 15 {
                process.signal(SIGKILL)
                process.wait()
                kills += 1
                let keys = try Self.keys(killed)
                #expect(Set(keys).count == keys.count, "after kill \(kills): \(keys)")
                continue
            }
            #expect(process.wait() == 0, "\(process.stderr)")
            break
        }
        print("killed at random instants: \(kills) SIGKILLs before the run finished")
        #expect(try Self.metrics(killed) == expected)

        // The window between metrics and checkpoint, made exactly: epoch 1 committed, then the
        // lines of epoch 2 written but not its checkpoint, half a line more, a temporary file.
        let crafted = root.appendingPathComponent("crafted")
        #expect(try RDLabProcess.run(Self.train(crafted, ["--epochs", "1"])).status == 0)
        let lines = try String(contentsOf: reference.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(4)
        try Data((lines.joined(separator: "\n") + "\n{\"epoch\":3,\"spl").utf8).write(to: crafted.appendingPathComponent("metrics.jsonl"))
        try Data(repeating: 7, count: 1000).write(to: crafted.appendingPathComponent(".checkpoint.safetensors.1.2.tmp"))
        let resumed = try RDLabProcess.run(Self.resume(crafted, ["--epochs", "3"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("dropped 3 line(s) past the last checkpoint"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("removed 1 temporary file(s) of an interrupted save"), "\(resumed.stderr)")
        #expect(try Self.metrics(crafted) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: crafted.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    static let canMount: Bool = {
        guard getuid() == 0, let dir = try? RDLabProcess.temporaryDirectory("mount-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: dir) }
        guard (try? shell("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path)) == 0 else { return false }
        _ = try? shell("umount", dir.path)
        return true
    }()

    @discardableResult
    static func shell(_ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A 40 MB tmpfs, filled up (all but 5 MB) once epoch 1 is committed: epoch 2's save
    /// fails with "no space left" and the path, the epoch-1 checkpoint (15.7 MB) stays, epoch
    /// 2's lines are taken back, no temporary file is left — and the run, moved to a roomier
    /// disk, resumes to the uninterrupted numbers.
    @Test(.enabled(if: canMount, "needs root and mount (a tiny tmpfs)"))
    func aFullDiskKeepsThePreviousCheckpoint() throws {
        let root = try RDLabProcess.temporaryDirectory("full")
        let disk = root.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        #expect(try Self.shell("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", disk.path) == 0)
        defer {
            _ = try? Self.shell("umount", disk.path)
            try? FileManager.default.removeItem(at: root)
        }
        let run = disk.appendingPathComponent("run")
        let training = try RunningRDLab(Self.train(run, ["--epochs", "3"]))
        #expect(training.waitFor("epoch 1: train R"), "\(training.stderr)")
        let free = try #require(try FileManager.default.attributesOfFileSystem(forPath: disk.path)[.systemFreeSize] as? Int)
        try Data(count: max(0, free - 5 << 20)).write(to: disk.appendingPathComponent("filler"))
        #expect(training.wait() == 1)
        #expect(training.stderr.contains("rdlab: error: cannot write \(run.appendingPathComponent("checkpoint.safetensors").path): no space left on device"),
            "\(training.stderr)")
        #expect(!training.stderr.contains("NSCocoaErrorDomain"))
        #expect(try Self.checkpointStep(run) == 2)
        #expect(try Self.keys(run) == ["1/train", "1/test"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".tmp") }.isEmpty)

        let moved = root.appendingPathComponent("moved")
        try FileManager.default.copyItem(at: run, to: moved)
        let resumed = try RDLabProcess.run(Self.resume(moved))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let reference = root.appendingPathComponent("reference")
        #expect(try RDLabProcess.run(Self.train(reference, ["--epochs", "3"])).status == 0)
        #expect(try Self.metrics(moved) == Self.metrics(reference))
    }

    /// A flipped bit in the tensor data, or in the header, is refused by `eval` and `--resume`
    /// with one line naming the file; the intact file still works.
    @Test func damagedCheckpointsAreRefused() throws {
        let root = try RDLabProcess.temporaryDirectory("flip")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        #expect(try RDLabProcess.run(Self.train(run, ["--epochs", "1", "--image-columns", "0"])).status == 0)
        let file = run.appendingPathComponent("checkpoint.safetensors")
        let intact = try Data(contentsOf: file)
        let headerLength = Int(intact[0]) | Int(intact[1]) << 8 | Int(intact[2]) << 16
        let header = String(decoding: intact[8..<(8 + headerLength)], as: UTF8.self)
        let stepValue = try #require(header.range(of: "\"step\":\"2\"")).upperBound
        let headerByte = 8 + header.utf8.distance(from: header.startIndex, to: stepValue) - 2
        for (byte, reason) in [(intact.count - 1001, "does not match the stored"), (headerByte, "does not match the stored"),
            (3, "does not fit a file of")] {
            var damaged = intact
            damaged[byte] ^= 0x04
            try damaged.write(to: file)
            for arguments in [["eval", "--run", run.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures], Self.resume(run, ["--epochs", "2"])] {
                let refused = try RDLabProcess.run(arguments)
                #expect(refused.status == 1, "\(arguments[0]) accepted a flip at byte \(byte)")
                let lines = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("rdlab: error:") }
                #expect(lines.count == 1 && lines[0].contains("checkpoint \(file.path): ") && lines[0].contains(reason), "\(refused.stderr)")
            }
        }
        try intact.write(to: file)
        #expect(try RDLabProcess.run(["eval", "--run", run.path, "--backend", "cpu", "--data-dir", TestDatasets.fixtures]).status == 0)
        #expect(try Self.keys(run) == ["1/train", "1/test"])
    }

    /// SIGTERM while the last epoch is being evaluated: exit 143 with a checkpoint of the
    /// trained state; the resumed run evaluates that epoch and ends where an uninterrupted run does.
    @Test func sigtermDuringTheLastEvaluationCheckpoints() throws {
        let root = try RDLabProcess.temporaryDirectory("term")
        defer { try? FileManager.default.removeItem(at: root) }
        // One training step, then 100 evaluation batches.
        let settings = ["--train-limit", "2", "--batch-size", "2", "--test-limit", "200", "--epochs", "1", "--image-columns", "0"]
        func arguments(_ out: URL) -> [String] { Self.train(out, []).replacing(settings) }
        let reference = root.appendingPathComponent("reference"), run = root.appendingPathComponent("run")
        #expect(try RDLabProcess.run(arguments(reference)).status == 0)
        let process = try RunningRDLab(arguments(run))
        #expect(process.waitFor("epoch 1: evaluating on 200 test examples"), "\(process.stderr)")
        process.signal(SIGTERM)
        #expect(process.wait() == 143, "\(process.stderr)")
        #expect(process.stderr.contains("signal 15: checkpoint written at step 1"), "\(process.stderr)")
        #expect(try Self.checkpointStep(run) == 1)
        #expect(try Self.keys(run).isEmpty)
        let resumed = try RDLabProcess.run(Self.resume(run))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.metrics(run) == Self.metrics(reference))
    }

    /// SIGTERM while a PixelCNN decoder draws its image grids (784 passes) stops within a pass;
    /// the epoch was committed before, so the checkpoint on disk is the complete state.
    @Test func sigtermWhileDrawingImagesStopsPromptly() throws {
        let root = try RDLabProcess.temporaryDirectory("images")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let process = try RunningRDLab(Self.train(run, []).replacing(["--train-limit", "2", "--batch-size", "2", "--test-limit", "4",
            "--epochs", "1", "--decoder", "pixelcnn", "--pixelcnn-features", "4", "--pixelcnn-resnets", "1", "--image-columns", "2"]))
        #expect(process.waitFor("drawing the image grids"), "\(process.stderr)")
        let signalled = Date()
        process.signal(SIGTERM)
        #expect(process.wait() == 143, "\(process.stderr)")
        #expect(Date().timeIntervalSince(signalled) < 10)
        #expect(process.stderr.contains("signal 15: the checkpoint of step 1 in"), "\(process.stderr)")
        #expect(try Self.keys(run) == ["1/train", "1/test"])
        #expect(try Checkpoint.header(of: run.appendingPathComponent("checkpoint.safetensors")).checkpoint.metricsLines == 2)
    }

    @Test func flagsAndMemoryAreCheckedBeforeAnyWork() throws {
        let root = try RDLabProcess.temporaryDirectory("flags")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        for (flag, value, reason) in [("--beta", "nan", "--beta must be a finite number ≥ 0 (got nan)"),
            ("--beta", "-1", "--beta must be a finite number ≥ 0 (got -1.0)"),
            ("--epochs", "0", "--epochs must be between 1 and 1000000 (got 0)"), ("--lr", "0", "--lr must be a finite number > 0"),
            ("--lr", "inf", "--lr must be a finite number > 0 (got inf)"), ("--max-steps", "0", "--max-steps must be between 1 and 2^40 (got 0)"),
            ("--train-limit", "0", "--train-limit must be at least 1"), ("--kl-anneal-steps", "-5", "--kl-anneal-steps must be 0")] {
            let out = try RDLabProcess.run(Self.train(run, ["\(flag)=\(value)"]))
            #expect(out.status == 64, "\(flag) \(value): \(out.stderr)")
            #expect(out.stderr.contains(reason), "\(flag) \(value): \(out.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: run.path), "a usage error created the run directory")

        // the step needs about 49 MiB: 16 MiB fixed and 0.66 MiB per example
        let refused = try RDLabProcess.run(Self.train(run, ["--epochs", "1"]), environment: ["RDLAB_MEMORY_BUDGET": "32MiB"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("a training step needs about") && refused.stderr.contains("more than the budget RDLAB_MEMORY_BUDGET=32MiB")
            && refused.stderr.contains("lower --batch-size to") && !refused.stderr.contains("--activation-memory"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("config.json").path))
        let warned = try RDLabProcess.run(Self.train(run, ["--epochs", "1", "--image-columns", "0"]),
            environment: ["RDLAB_MEMORY_BUDGET": "64MiB"])
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.warnings.contains { $0.contains("over half of the budget RDLAB_MEMORY_BUDGET=64MiB") }, "\(warned.stderr)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any]
        let provenance = config?["provenance"] as? [String: Any]
        #expect(provenance?["activation_memory"] as? String == "kept")
        #expect((provenance?["step_memory_bytes"] as? Int).map { (40 << 20)...(64 << 20) ~= $0 } == true, "\(String(describing: provenance))")

        // A PixelCNN step that fits only with its gated resnets recomputed: the refusal says so,
        // and the run with --activation-memory recomputed records it
        let pixelCNN = ["--decoder", "pixelcnn", "--pixelcnn-features", "8", "--pixelcnn-resnets", "1", "--batch-size", "10",
            "--max-steps", "1", "--image-columns", "0"]
        let lean = root.appendingPathComponent("lean")
        let tooBig = try RDLabProcess.run(Self.train(lean, pixelCNN), environment: ["RDLAB_MEMORY_BUDGET": "24MiB"])
        #expect(tooBig.status == 1 && tooBig.stderr.contains("pass --activation-memory recomputed (about"), "\(tooBig.stderr)")
        let recomputed = try RDLabProcess.run(Self.train(lean, pixelCNN + ["--activation-memory", "recomputed"]),
            environment: ["RDLAB_MEMORY_BUDGET": "24MiB"])
        #expect(recomputed.status == 0, "\(recomputed.stderr)")
        let leanConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: lean.appendingPathComponent("config.json"))) as? [String: Any]
        #expect((leanConfig?["provenance"] as? [String: Any])?["activation_memory"] as? String == "recomputed")
        let nonsense = try RDLabProcess.run(Self.train(root.appendingPathComponent("x"), []), environment: ["RDLAB_MEMORY_BUDGET": "lots"])
        #expect(nonsense.status == 1 && nonsense.stderr.contains("RDLAB_MEMORY_BUDGET='lots'"), "\(nonsense.stderr)")
    }

    /// A budget that ends inside an epoch: its lines are written but stay provisional, so the
    /// run resumes with a larger budget (or none) to the numbers of a run never stopped.
    @Test func aRunStoppedMidEpochByMaxStepsResumesWithALargerBudget() throws {
        let root = try RDLabProcess.temporaryDirectory("maxsteps")
        defer { try? FileManager.default.removeItem(at: root) }
        let reference = root.appendingPathComponent("reference"), run = root.appendingPathComponent("run")
        #expect(try RDLabProcess.run(Self.train(reference, ["--epochs", "2", "--image-columns", "0"])).status == 0)
        let first = try RDLabProcess.run(Self.train(run, ["--epochs", "2", "--max-steps", "3", "--image-columns", "0"]))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.keys(run) == ["1/train", "1/test", "2/train", "2/test"])
        #expect(try Self.checkpointStep(run) == 3)
        let again = try RDLabProcess.run(Self.resume(run))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.keys(run) == ["1/train", "1/test", "2/train", "2/test"], "a resume with nothing to do changed the lines")
        let config = try Data(contentsOf: run.appendingPathComponent("config.json"))
        for (flag, value) in [("--epochs", "9223372036854775807"), ("--max-steps", "1099511627777")] {
            let huge = try RDLabProcess.run(Self.resume(run, [flag, value]))
            #expect(huge.status == 64 && huge.stderr.contains("\(flag) must be between 1 and"), "\(huge.stderr)")
        }
        #expect(try Data(contentsOf: run.appendingPathComponent("config.json")) == config)
        let more = try RDLabProcess.run(Self.resume(run, ["--max-steps", "4"]))
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try Self.metrics(run) == Self.metrics(reference))
    }

    /// A new run never truncates metrics it cannot continue, and never removes files that
    /// are not its own temporaries.
    @Test func aNewRunLeavesForeignFilesAlone() throws {
        let root = try RDLabProcess.temporaryDirectory("foreign")
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("{\"epoch\":1}\n".utf8).write(to: root.appendingPathComponent("metrics.jsonl"))
        try Data("mine".utf8).write(to: root.appendingPathComponent(".notes.tmp"))
        let refused = try RDLabProcess.run(Self.train(root, ["--epochs", "1"]))
        #expect(refused.status == 1 && refused.stderr.contains("holds metrics.jsonl but no checkpoint"), "\(refused.stderr)")
        #expect(try String(contentsOf: root.appendingPathComponent("metrics.jsonl"), encoding: .utf8) == "{\"epoch\":1}\n")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(".notes.tmp").path))
    }

    @Test func helpAndExtremeNumbersNeverTrap() throws {
        for arguments in [["--help"], ["train", "--help"], ["help", "eval"]] {
            let help = try RDLabProcess.run(arguments)
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(arguments): \(help.stderr)")
        }
        for (arguments, words) in [(["--batch-size=-9223372036854775808"], "--batch-size must be at least 1"),
            (["--epochs", "9223372036854775807"], "--epochs must be between 1 and 1000000"),
            (["--max-steps", "9223372036854775807"], "--max-steps must be between 1 and 2^40"),
            (["--pixelcnn-features", "100000"], "--pixelcnn-features must be between 1 and 512")] {
            let out = try RDLabProcess.run(["train"] + arguments)
            #expect(out.status == 64 && out.stderr.contains(words), "\(arguments): \(out.stderr)")
        }
        let eval = try RDLabProcess.run(["eval", "--checkpoint", "/nonexistent.safetensors", "--batch-size", "0"])
        #expect(eval.status == 64 && eval.stderr.contains("--batch-size must be at least 1"), "\(eval.stderr)")
    }

    @Test func fileSystemErrorsAreInPlainWords() throws {
        let root = try RDLabProcess.temporaryDirectory("fs")
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        for (out, words) in [(file.appendingPathComponent("run"), "cannot create the directory \(file.appendingPathComponent("run").path): a part of the path is not a directory"),
            (file, "cannot create the directory \(file.path): already exists")] {
            let result = try RDLabProcess.run(Self.train(out, ["--epochs", "1"]))
            #expect(result.status == 1)
            #expect(result.stderr.contains("rdlab: error: \(words)"), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Code="))
        }
    }

    /// Each pixel a 3×3 block, 6-pixel gaps: a grid of C columns is C·90 + 6 wide.
    @Test func imageGridsAreLegible() throws {
        let root = try RDLabProcess.temporaryDirectory("png")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        #expect(try RDLabProcess.run(Self.train(run, ["--epochs", "1", "--image-columns", "3"])).status == 0)
        for (name, rows) in [("reconstructions.png", 3), ("samples.png", 2)] {
            let png = try [UInt8](Data(contentsOf: run.appendingPathComponent(name)))
            func word(_ at: Int) -> Int { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
            #expect(Array(png[12..<16]) == Array("IHDR".utf8))
            #expect(word(16) == 3 * 90 + 6 && word(20) == rows * 90 + 6, "\(name): \(word(16))×\(word(20))")
        }
    }
}

extension Array where Element == String {
    /// These arguments with each `--flag value` pair of `pairs` set (replaced or appended).
    func replacing(_ pairs: [String]) -> [String] {
        var result = self
        for index in stride(from: 0, to: pairs.count, by: 2) {
            let flag = pairs[index], value = index + 1 < pairs.count ? pairs[index + 1] : ""
            if let position = result.firstIndex(of: flag), position + 1 < result.count {
                result[position + 1] = value
            } else {
                result += [flag, value]
            }
        }
        return result
    }
}
