import ArgumentParser
import Foundation
import RDSweep

extension ResultsExport.Format: ExpressibleByArgument {}

extension SweepDirectory {
    /// The plan and the store, freshly collected from the run directories; lines left out are printed.
    func collected() throws -> (plan: Plan, store: ResultsStore, summary: SweepCollector.Summary) {
        let plan = try readPlan()
        let store = try ResultsStore(url: results)
        let summary = try SweepCollector(sweep: self, store: store).collect()
        for line in summary.skipped { print("  skipped: \(line)") }
        return (plan, store, summary)
    }
}

/// `rdlab sweep collect SWEEP [--export csv|jsonl]`.
struct SweepCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Fill SWEEP/results.sqlite from the run directories (again and again: it changes nothing twice).",
        discussion: """
            Tables: points (label, axis values, flags, model, family, objective), runs (status, exit status, \
            backend, device, rdlab version and commit, times), metrics (per point, epoch and split: rate, \
            distortion, −ELBO, β or λ, seconds; IWAE and PSNR columns), layer_rates (per latent layer), probes \
            (`evaluate: {probes: true}`: per layer and features, the probes' accuracies and their bound). A metrics line \
            that is incomplete or not a metrics record is reported and left out; nothing else is lost. \
            --export writes every table to SWEEP/export/<table>.csv or .jsonl (pandas.read_csv / read_json(lines=True)).
            """)

    @Argument(help: "The sweep folder.") var sweep: String
    @Option(help: "Also write the tables as csv | jsonl into SWEEP/export/.") var export: ResultsExport.Format?

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep))
        let (_, store, summary) = try directory.collected()
        let states = summary.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("\(directory.results.path): \(summary.points) points (\(states)), \(summary.metricsRows) metrics rows")
        if let export {
            for file in try ResultsExport.write(store, format: export, to: directory.url.appendingPathComponent("export")) {
                print("  wrote \(file.path)")
            }
        }
    }
}

/// `rdlab sweep plot SWEEP`.
struct SweepPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Collect, then draw the R–D plane, −ELBO against R and the runs' trajectories into SWEEP/plots (SVG, and PNG with rsvg-convert).",
        discussion: """
            rd-plane.svg: every point's test R and D at its last epoch, by family or model; the Pareto frontier; \
            its lower convex hull; iso-ELBO lines D + R = c; and D = H − R (H exact for the toy model, else the \
            smallest −ELBO of the sweep, an upper bound on H). elbo-rate.svg: −ELBO against R. \
            trajectories.svg: each run's test (R, D) epoch by epoch. With two latent layers, layer-rates.svg \
            (R₁ against R₂); over a product of two numeric axes, heatmap-*.svg (D, each layer's rate, and with \
            probes PSNR and probe accuracy: HIT Fig. 3); with probes, probe-bound.svg (accuracy against the \
            information budget, under g⁻¹).
            """)

    @Argument(help: "The sweep folder.") var sweep: String

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep))
        let (plan, store, _) = try directory.collected()
        let (files, problem) = try RatePlots(store: store).write(to: directory.plots, plan: plan)
        for file in files { print("wrote \(file.path)") }
        if let problem { print("note: \(problem)") }
    }
}

/// `rdlab sweep report SWEEP [--compare OTHER]…`.
struct SweepReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Collect, plot, and write SWEEP/report.html: the plots inline, a sortable table of points, the frontier points' pictures, the spec and provenance.",
        discussion: "The page is self-contained (no network, pictures inline): open it in a browser or attach it to a supplement.")

    @Argument(help: "The sweep folder.") var sweep: String
    @Option(help: "Another sweep whose frontier to compare with (repeatable); see `rdlab sweep compare`.") var compare: [String] = []

    func run() throws {
        let directory = SweepDirectory(url: URL(fileURLWithPath: sweep))
        let (plan, store, summary) = try directory.collected()
        let (_, problem) = try RatePlots(store: store).write(to: directory.plots, plan: plan)
        var report = SweepReport(sweep: directory, store: store)
        report.comparisons = try compare.map { try SweepCompareCommand.compare(directory, with: SweepDirectory(url: URL(fileURLWithPath: $0))) }
        print("wrote \(try report.write().path) (\(summary.points) points) and the plots in \(directory.plots.path)")
        for comparison in report.comparisons { print(comparison.summary) }
        if let problem { print("note: \(problem)") }
    }
}

/// `rdlab sweep compare A B`.
struct SweepCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two sweeps' R–D frontiers: the mean distortion difference and the area between them over their common rate range.",
        discussion: """
            Each sweep's frontier is the lower convex hull of its points (test split, last epoch), piecewise linear \
            in R. Over the rates both cover: mean D_A − D_B (nats; negative when A reaches lower distortion at the \
            same rate, a Bjøntegaard-style average), the area ∫|D_A − D_B| dR (nats²) and A's largest advantage.
            """)

    @Argument(help: "The first sweep folder (A).") var a: String
    @Argument(help: "The second sweep folder (B).") var b: String

    func run() throws {
        print(try Self.compare(SweepDirectory(url: URL(fileURLWithPath: a)), with: SweepDirectory(url: URL(fileURLWithPath: b))).summary)
    }

    /// Collects both sweeps and compares their frontiers.
    static func compare(_ a: SweepDirectory, with b: SweepDirectory) throws -> FrontierComparison {
        func points(_ sweep: SweepDirectory) throws -> (String, [RDPoint]) {
            let (plan, store, _) = try sweep.collected()
            let final = try store.finalPoints()
            guard !final.isEmpty else { throw CleanExit.failure("\(sweep.url.path) has no results yet; run it first (rdlab sweep run \(sweep.url.path))") }
            return (plan.name, final.map { RDPoint(rate: $0.rate, distortion: $0.distortion) })
        }
        let (nameA, pointsA) = try points(a), (nameB, pointsB) = try points(b)
        return FrontierComparison(pointsA, pointsB, nameA: nameA, nameB: nameB == nameA ? b.url.lastPathComponent : nameB)
    }
}
