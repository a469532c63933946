import Foundation
import RDSweep
import RDTestSupport
import Testing

/// `rdlab sweep plan/run/status/collect/plot` on the toy model: children in parallel, a
/// runner killed with SIGKILL and restarted, failures recorded, collect idempotent, plots drawn.
@Suite("rdlab sweep", .serialized)
struct SweepIntegrationTests {
    static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }

    /// The test lines of a run's metrics, as (epoch, split) → line.
    static func metrics(_ run: URL) throws -> [[String: Any]] {
        let text = (try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func planRunCollectAndPlot() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("toy.yaml"), sweep = root.appendingPathComponent("toy")
        try Self.write("""
            name: toy-beta
            train: {model: toy, backend: cpu, epochs: 2}
            axes:
              beta: [0.5, 2]
              variant: [{seed: 1}, {seed: 2, lr: 0.02}]
            """, to: spec)
        let plan = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("4 points (beta 2 × variant 2)"), "\(plan.stdout)")
        let again = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path])
        #expect(again.status == 0 && again.stdout.contains("already planned, nothing changed"))
        let points = try SweepDirectory(url: sweep).readPlan().points

        let run = try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("training 4 of 4 points, 2 at a time") && run.stdout.contains("[4/4]"), "\(run.stdout)")
        for point in points {
            let lines = try Self.metrics(sweep.appendingPathComponent("runs/\(point.id)"))
            #expect(lines.count == 4, "point \(point.index): \(lines.count) lines")
        }
        let config = try String(contentsOf: sweep.appendingPathComponent("runs/\(points[3].id)/config.json"), encoding: .utf8)
        #expect(config.contains("\"seed\" : 2") && config.contains("\"learning_rate\" : 0.02"), "\(config)")
        let rerun = try RDLabProcess.run(["sweep", "run", sweep.path])
        #expect(rerun.status == 0 && rerun.stdout.contains("nothing to train"), "\(rerun.stdout)")
        let status = try RDLabProcess.run(["sweep", "status", sweep.path])
        #expect(status.stdout.contains("4 points: 4 done, 0 running, 0 stopped, 0 failed, 0 pending"), "\(status.stdout)")

        let collect = try RDLabProcess.run(["sweep", "collect", sweep.path, "--export", "csv"])
        #expect(collect.status == 0 && collect.stdout.contains("4 points (4 done), 16 metrics rows"), "\(collect.stdout)\(collect.stderr)")
        let exported = try String(contentsOf: sweep.appendingPathComponent("export/metrics.csv"), encoding: .utf8)
        _ = try RDLabProcess.run(["sweep", "collect", sweep.path, "--export", "csv"])
        #expect(try String(contentsOf: sweep.appendingPathComponent("export/metrics.csv"), encoding: .utf8) == exported)

        let plot = try RDLabProcess.run(["sweep", "plot", sweep.path])
        #expect(plot.status == 0, "\(plot.stderr)")
        let svg = try String(contentsOf: sweep.appendingPathComponent("plots/rd-plane.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "class=\"point\"").count - 1 == 4)
        #expect(svg.contains("D = H − R, H = 3.0184") && svg.contains("Pareto frontier") && svg.contains("iso-ELBO"))
        let trajectories = try String(contentsOf: sweep.appendingPathComponent("plots/trajectories.svg"), encoding: .utf8)
        #expect(trajectories.components(separatedBy: "class=\"point\"").count - 1 == 8)
        if plot.stdout.contains("rd-plane.png") {
            let png = try Data(contentsOf: sweep.appendingPathComponent("plots/rd-plane.png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        } else {
            #expect(plot.stdout.contains("rsvg-convert"), "\(plot.stdout)")
        }
    }

    /// A point whose `train` fails is recorded with its status and last lines; the others finish.
    /// `--task` trains one point and exits with its status.
    @Test func failedPointsAreRecordedAndTasksRunAlone() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-fail")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("s.yaml"), sweep = root.appendingPathComponent("s")
        // a data folder without the dataset: the image point fails, the toy points do not
        try Self.write("""
            train: {backend: cpu, epochs: 1}
            axes:
              kind:
                - {model: toy}
                - {model: alemi, data_dir: \(root.path), train_limit: 10, test_limit: 10}
                - {model: toy, seed: 3}
            """, to: spec)
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path]).status == 0)
        let run = try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"], environment: ["RDLAB_OFFLINE": "1",
            "RDLAB_DATA_DIR": root.path, "HOME": root.path])
        #expect(run.status == 1, "\(run.stdout)")
        #expect(run.stderr.contains("1 point(s) failed"), "\(run.stderr)")
        #expect(run.stdout.contains("FAILED with status 1"), "\(run.stdout)")
        let status = try RDLabProcess.run(["sweep", "status", sweep.path])
        #expect(status.stdout.contains("2 done") && status.stdout.contains("1 failed"), "\(status.stdout)")
        #expect(status.stdout.contains("exit 1: "), "\(status.stdout)")
        let task = try RDLabProcess.run(["sweep", "run", sweep.path, "--task", "1"], environment: ["RDLAB_OFFLINE": "1",
            "RDLAB_DATA_DIR": root.path, "HOME": root.path])
        #expect(task.status == 1, "\(task.stdout)")
        let done = try RDLabProcess.run(["sweep", "run", sweep.path, "--task", "0"])
        #expect(done.status == 0 && done.stdout.contains("point 0 (kind=model=toy) is done"), "\(done.stdout)")
        let missing = try RDLabProcess.run(["sweep", "run", sweep.path, "--task", "3"])
        #expect(missing.status == 1 && missing.stderr.contains("has points 0 to 2; there is no task 3"), "\(missing.stderr)")
        let bad = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", root.appendingPathComponent("t").path])
        #expect(bad.status == 0)
        try Self.write("train: {model: toy, latent_dim: 3}\naxes: {seed: [1]}\n", to: spec)
        let refused = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", root.appendingPathComponent("u").path])
        #expect(refused.status == 1 && refused.stderr.contains("point 0 (seed=1) is not a valid `rdlab train`"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--latent-dim"), "\(refused.stderr)")
        try Self.write("train: {model: toy}\naxes: {seed: [1]}\nevaluate: {iwae: 5}\n", to: spec)
        let noDensity = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", root.appendingPathComponent("v").path])
        #expect(noDensity.status == 1 && noDensity.stderr.contains("evaluate: iwae needs a density e(z|x), and point 0 (seed=1) trains --model toy"),
            "\(noDensity.stderr)")
    }

    /// SIGKILL of the runner stops its children at a checkpoint; a second runner completes every
    /// point once, each (epoch, split) in its metrics once, to the numbers of an uninterrupted run.
    @Test func runnerKilledMidwayResumesEveryPointOnce() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("s.yaml"), sweep = root.appendingPathComponent("s")
        let epochs = 60
        try Self.write("train: {model: toy, backend: cpu, epochs: \(epochs)}\naxes: {target_rate: [0.25, 0.5, 0.75]}\n", to: spec)
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path]).status == 0)
        let points = try SweepDirectory(url: sweep).readPlan().points
        let runner = try RunningRDLab(["sweep", "run", sweep.path, "--jobs", "2"])
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let epochsDone = try points.prefix(2).map { try Self.metrics(sweep.appendingPathComponent("runs/\($0.id)")).count / 2 }
            if epochsDone.allSatisfy({ $0 >= 2 }) { break }
            usleep(20_000)
        }
        runner.signal(SIGKILL)
        #expect(runner.wait() == 128 + SIGKILL)
        // the children see their parent gone and stop at a checkpoint, long before they could finish
        let released = Date().addingTimeInterval(5)
        var holders: [String] = []
        repeat {
            holders = points.compactMap { point in
                let lock = sweep.appendingPathComponent("runs/\(point.id)/lock")
                let text = (try? String(contentsOf: lock, encoding: .utf8)) ?? ""
                return text.isEmpty ? nil : point.id
            }
            usleep(50_000)
        } while !holders.isEmpty && Date() < released
        #expect(holders.isEmpty, "children still hold \(holders)")
        for point in points.prefix(2) {
            let lines = try Self.metrics(sweep.appendingPathComponent("runs/\(point.id)")).count
            #expect(lines >= 4 && lines < 2 * epochs, "point \(point.index) after the kill: \(lines) lines")
        }
        let stopped = try RDLabProcess.run(["sweep", "status", sweep.path])
        #expect(stopped.stdout.contains("2 stopped") && stopped.stdout.contains("1 pending"), "\(stopped.stdout)")

        let resumed = try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("training 3 of 3 points"), "\(resumed.stdout)")
        for point in points {
            let lines = try Self.metrics(sweep.appendingPathComponent("runs/\(point.id)"))
            let keys = lines.map { "\($0["epoch"] ?? "") \($0["split"] ?? "")" }
            #expect(keys.count == 2 * epochs && Set(keys).count == keys.count, "point \(point.index): \(keys)")
        }
        let fresh = root.appendingPathComponent("fresh")
        #expect(try RDLabProcess.run(["train"] + points[0].arguments + ["--out", fresh.path]).status == 0)
        let a = try Self.metrics(sweep.appendingPathComponent("runs/\(points[0].id)")).last!, b = try Self.metrics(fresh).last!
        #expect(a["rate_nats"] as? Double == b["rate_nats"] as? Double && a["distortion_nats"] as? Double == b["distortion_nats"] as? Double,
            "resumed \(a) fresh \(b)")
    }

    /// A conv-VAE β sweep on the binarized MNIST fixtures with `evaluate: {iwae: 3}`: the runner
    /// evaluates each trained point and the store holds the bound on its last test row.
    @Test func evaluatedPointsCarryTheIWAEBound() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-iwae")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("s.yaml"), sweep = root.appendingPathComponent("s")
        try Self.write("""
            train: {backend: cpu, data_dir: \(TestDatasets.fixtures), train_limit: 20, test_limit: 10, batch_size: 10, epochs: 1,
              latent_dim: 2, image_columns: 0}
            axes: {beta: [0.5, 2]}
            evaluate: {iwae: 3}
            """, to: spec)
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path]).status == 0)
        let run = try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let points = try SweepDirectory(url: sweep).readPlan().points
        let log = try String(contentsOf: sweep.appendingPathComponent("logs/\(points[0].id).log"), encoding: .utf8)
        #expect(log.contains("rdlab eval --run") && log.contains("--iwae 3 --json --backend cpu --data-dir"), "\(log)")
        let collect = try RDLabProcess.run(["sweep", "collect", sweep.path, "--export", "jsonl"])
        #expect(collect.status == 0 && !collect.stdout.contains("skipped"), "\(collect.stdout)")
        let rows = try String(contentsOf: sweep.appendingPathComponent("export/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let tested = rows.filter { $0["split"] as? String == "test" }
        #expect(tested.count == 2 && tested.allSatisfy { ($0["neg_iwae"] as? Double)?.isFinite == true && $0["iwae_samples"] as? Int == 3 },
            "\(tested)")
        #expect(rows.filter { $0["split"] as? String == "train" }.allSatisfy { $0["neg_iwae"] is NSNull })
    }

    /// HIT's grid in miniature: a 2 × 2 (β₁, β₂) sweep of the two-layer VAE on the MNIST fixtures
    /// with `evaluate: {probes: true}`: the runner passes `--probes`, the store holds the PSNR and
    /// eight probe rows per point, and the plots include the HIT heatmaps and the bound plot.
    /// `plan` refuses probes for a model without layers to probe and for data without labels.
    @Test func hierarchicalGridCarriesTheProbes() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-probes")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("s.yaml"), sweep = root.appendingPathComponent("s")
        let train = "train: {model: hierarchical, backend: cpu, data_dir: \(TestDatasets.fixtures), train_limit: 64, test_limit: 100, "
            + "epochs: 1, image_columns: 0}\n"
        try Self.write(train + "axes: {beta1: [0.1, 10], beta2: [0.1, 10]}\nevaluate: {probes: true}\n", to: spec)
        let plan = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        let run = try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let points = try SweepDirectory(url: sweep).readPlan().points
        let log = try String(contentsOf: sweep.appendingPathComponent("logs/\(points[0].id).log"), encoding: .utf8)
        #expect(log.contains("rdlab eval --run") && log.contains(" --probes --json --backend cpu --data-dir"), "\(log)")
        let collect = try RDLabProcess.run(["sweep", "collect", sweep.path, "--export", "jsonl"])
        #expect(collect.status == 0 && !collect.stdout.contains("skipped"), "\(collect.stdout)")
        func rows(_ table: String) throws -> [[String: Any]] {
            try String(contentsOf: sweep.appendingPathComponent("export/\(table).jsonl"), encoding: .utf8).split(separator: "\n")
                .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        }
        let probes = try rows("probes")
        #expect(probes.count == 4 * 2 * 2, "\(probes)")
        #expect(probes.allSatisfy { row in
            ["logistic_accuracy", "nearest_neighbour_accuracy", "bound_accuracy", "chance_accuracy"]
                .allSatisfy { (0...1).contains(row[$0] as? Double ?? -1) } && row["classes"] as? Int == 10
        }, "\(probes)")
        #expect(Set(probes.map { "\($0["layer"] ?? "") \($0["features"] ?? "")" }) == ["z1 mean", "z1 sample", "z2 mean", "z2 sample"])
        let tested = try rows("metrics").filter { $0["split"] as? String == "test" }
        #expect(tested.count == 4 && tested.allSatisfy { ($0["psnr_db"] as? Double)?.isFinite == true }, "\(tested)")

        let report = try RDLabProcess.run(["sweep", "report", sweep.path])
        #expect(report.status == 0, "\(report.stderr)")
        for name in ["heatmap-psnr", "heatmap-probe-z1", "heatmap-probe-z2", "heatmap-rate-z1", "heatmap-rate-z2", "layer-rates", "probe-bound"] {
            #expect(FileManager.default.fileExists(atPath: sweep.appendingPathComponent("plots/\(name).svg").path), "\(name)")
        }
        let html = try String(contentsOf: sweep.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("id=\"plot-probe-bound\"") && html.contains("<th>PSNR (dB)</th>"))

        for (settings, expected) in [
            ("train: {model: alemi}\n", "evaluate: probes reads each latent layer's posterior means (HIT's two-layer VAE), and point 0 (seed=1) trains --model alemi"),
            ("train: {model: hierarchical, dataset: binarized-mnist}\n", "evaluate: probes needs class labels, and point 0 (seed=1) trains on binarized-mnist, which has none; set dataset to mnist or fashion-mnist"),
        ] {
            try Self.write(settings + "axes: {seed: [1]}\nevaluate: {probes: true}\n", to: spec)
            let refused = try RDLabProcess.run(["sweep", "plan", spec.path, "--out", root.appendingPathComponent("refused").path])
            #expect(refused.status == 1 && refused.stderr.contains(expected), "\(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("refused").path))
    }

    /// A point whose run directory another process holds is busy, not failed: `--task` exits 75
    /// and records nothing, `sweep run` skips it. `--task` passes the runner's SIGINT on to its
    /// child, which stops at a checkpoint.
    @Test func busyPointsAndSignalsOfATask() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-busy")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("s.yaml"), sweep = root.appendingPathComponent("s")
        try Self.write("train: {model: toy, backend: cpu, epochs: 400}\naxes: {seed: [1]}\n", to: spec)
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path]).status == 0)
        let point = try #require(try SweepDirectory(url: sweep).readPlan().points.first)
        let run = sweep.appendingPathComponent("runs/\(point.id)")
        let other = try RunningRDLab(["train"] + point.arguments + ["--out", run.path])
        #expect(other.waitFor("epoch 1: train"), "\(other.stderr)")
        let busy = try RDLabProcess.run(["sweep", "run", sweep.path, "--task", "0"])
        #expect(busy.status == 75 && busy.stderr.contains("point 0 is being trained by another process"), "\(busy.stdout)\(busy.stderr)")
        let all = try RDLabProcess.run(["sweep", "run", sweep.path])
        #expect(all.status == 0 && all.stdout.contains("point 0 (seed=1) is being trained by another process; skipped"), "\(all.stdout)")
        #expect(!FileManager.default.fileExists(atPath: sweep.appendingPathComponent("status/\(point.id).json").path))
        other.signal(SIGTERM)
        #expect(other.wait() == 143)

        let task = try RunningRDLab(["sweep", "run", sweep.path, "--task", "0"])
        func holder() -> Int32? {
            let text = (try? String(contentsOf: run.appendingPathComponent("lock"), encoding: .utf8)) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["pid"] as? Int32
        }
        // SIGINT once the child trains (a child killed while it starts, before its handlers, just ends)
        let before = try Self.metrics(run).count
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try Self.metrics(run).count <= before { usleep(20_000) }
        let child = try #require(holder())
        task.signal(SIGINT)
        #expect(task.wait() == 130)
        #expect(kill(child, 0) != 0, "the child \(child) still runs")
        #expect(holder() == nil, "the lock is released")
        #expect(!FileManager.default.fileExists(atPath: sweep.appendingPathComponent("status/\(point.id).json").path))
    }
}
