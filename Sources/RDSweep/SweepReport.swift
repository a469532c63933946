import Foundation
import RDCompute
import RDFiles
import RDLab

/// `report.html`: one self-contained page about a sweep — its plots inline, a sortable table of
/// the points, the reconstruction and sample grids of the points on the frontier, the spec and
/// the provenance — to open in a browser or attach to a paper's supplement. Nothing is loaded
/// from elsewhere: pictures are data URIs, the sorting is a few lines of inline script.
public struct SweepReport {
    public let sweep: SweepDirectory
    public let store: ResultsStore
    /// Comparisons with other sweeps, shown in their own section.
    public var comparisons: [FrontierComparison] = []

    public init(sweep: SweepDirectory, store: ResultsStore) {
        self.sweep = sweep
        self.store = store
    }

    public func html() throws -> String {
        let plan = try sweep.readPlan()
        let final = try store.finalPoints()
        let all = final.map { RDPoint(rate: $0.rate, distortion: $0.distortion) }
        let frontier = Set(Frontier.pareto(all).map { final[$0].pointId })
        let hull = Set(Frontier.lowerConvexHull(all).map { final[$0].pointId })
        let (runColumns, runRows) = try store.rows(of: .runs)
        let runs: [String: [String: String]] = Dictionary(uniqueKeysWithValues: runRows.map { row in
            let fields = Dictionary(uniqueKeysWithValues: zip(runColumns, row.map(ResultsExport.plain)))
            return (fields["point_id"] ?? "", fields)
        })
        let byId = Dictionary(uniqueKeysWithValues: final.map { ($0.pointId, $0) })
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(plan.name)) — rdlab sweep report</title>
            <style>
            body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; }
            h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
            .plots { display: flex; flex-wrap: wrap; gap: 12px; } .plots figure { margin: 0; }
            .plots figcaption { max-width: 740px; font-size: 13px; color: #444; margin: 2px 10px 10px; }
            table { border-collapse: collapse; font-size: 13px; } th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
            th { cursor: pointer; background: #f4f4f4; position: sticky; top: 0; } td.text, th.text { text-align: left; }
            tr.frontier td:first-child { border-left: 3px solid #444; }
            pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 12px; }
            .grids figure { display: inline-block; margin: 6px 12px 6px 0; vertical-align: top; } .grids img { image-rendering: pixelated; max-width: 420px; }
            </style></head><body>
            <h1>\(escape(plan.name))</h1>
            <p>\(plan.points.count) points, \(final.count) with results; \(statusLine(runs)). Generated \(ISO8601DateFormatter().string(from: Date())) by rdlab \(escape(provenance(runs))).</p>

            """
        page += "<h2>Plots</h2>\n<div class=\"plots\">\n"
        for plot in try RatePlots(store: store).all(plan: plan) {
            page += "<figure id=\"plot-\(plot.name)\">\(plot.svg)<figcaption>\(escape(plot.caption))</figcaption></figure>\n"
        }
        page += "</div>\n"
        if !comparisons.isEmpty {
            page += "<h2>Compared with other sweeps</h2>\n<ul>\n"
            for comparison in comparisons { page += "<li>\(escape(comparison.summary))</li>\n" }
            page += "</ul>\n"
        }
        page += pointsTable(plan: plan, byId: byId, runs: runs, frontier: frontier, hull: hull, extra: try extraColumns(final))
        page += grids(final.filter { frontier.contains($0.pointId) }, plan: plan)
        let specText = (try? String(contentsOf: sweep.spec, encoding: .utf8)) ?? "(sweep.yaml is missing)"
        page += "<h2>Spec</h2>\n<pre>\(escape(specText))</pre>\n"
        page += """
            <script>
            document.querySelectorAll("table.sortable th").forEach((th, column) => th.addEventListener("click", () => {
              const body = th.closest("table").tBodies[0], rows = Array.from(body.rows);
              const ascending = th.dataset.order !== "ascending"; th.dataset.order = ascending ? "ascending" : "descending";
              const key = r => { const t = r.cells[column].dataset.value ?? r.cells[column].textContent; const n = parseFloat(t); return isNaN(n) ? t : n; };
              const missing = r => r.cells[column].dataset.value === "";  // no result yet: last either way
              rows.sort((a, b) => { if (missing(a) !== missing(b)) return missing(a) ? 1 : -1;
                const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1); });
              rows.forEach(r => body.appendChild(r));
            }));
            document.body.dataset.drawn = document.querySelectorAll("svg .point, svg .cell").length;  // read by the render test
            </script>
            </body></html>

            """
        return page
    }

    /// Writes `SWEEP/report.html` atomically.
    public func write() throws -> URL {
        try AtomicFile.write(Data(try html().utf8), to: sweep.report)
        return sweep.report
    }

    func pointsTable(plan: SweepDirectory.Plan, byId: [String: FinalPoint], runs: [String: [String: String]], frontier: Set<String>,
        hull: Set<String>, extra: [ExtraColumn] = []) -> String {
        var out = "<h2>Points</h2>\n<p>Click a column to sort. Test split, last epoch. ◆ on the Pareto frontier, ▲ a corner of its lower convex hull."
            + (extra.contains { $0.heading.hasPrefix("probe") } ? " probe z: held-out accuracy of the logistic probe on the layer's posterior means." : "")
            + "</p>\n"
        out += "<table class=\"sortable\" id=\"points\"><thead><tr><th>#</th><th class=\"text\">point</th><th class=\"text\">id</th>"
            + "<th class=\"text\">model</th><th class=\"text\">objective</th><th>epoch</th><th>R</th><th>D</th><th>−ELBO</th><th>β / λ</th>"
            + extra.map { "<th>\(escape($0.heading))</th>" }.joined()
            + "<th class=\"text\">frontier</th><th class=\"text\">status</th><th>seconds</th></tr></thead><tbody>\n"
        for point in plan.points {
            let result = byId[point.id], run = runs[point.id] ?? [:]
            func number(_ value: Double?, _ format: String = "%.4f") -> String {
                value.map { "<td data-value=\"\($0)\">\(String(format: format, $0))</td>" } ?? "<td data-value=\"\"></td>"
            }
            let marks = (frontier.contains(point.id) ? "◆" : "") + (hull.contains(point.id) ? "▲" : "")
            out += "<tr\(frontier.contains(point.id) ? " class=\"frontier\"" : "")><td>\(point.index)</td><td class=\"text\">\(escape(point.label))</td>"
                + "<td class=\"text\"><code>\(escape(point.id))</code></td><td class=\"text\">\(escape(result.map { $0.family.map { "family \($0)" } ?? $0.model ?? "" } ?? ""))</td>"
                + "<td class=\"text\">\(escape(result?.objective ?? ""))</td><td>\(result.map { String($0.epoch) } ?? "")</td>"
                + number(result?.rate) + number(result?.distortion) + number(result?.negElbo) + number(result?.beta, "%.4g")
                + extra.map { number($0.values[point.id], $0.format) }.joined()
                + "<td class=\"text\">\(marks)</td><td class=\"text\">\(escape(run["status"] ?? ""))</td>"
                + number(Double(run["seconds"] ?? ""), "%.1f") + "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    /// The pictures `train` drew for each frontier point, inline.
    func grids(_ points: [FinalPoint], plan: SweepDirectory.Plan) -> String {
        guard !points.isEmpty else { return "" }
        var out = "<h2>Frontier points: reconstructions and samples</h2>\n<div class=\"grids\">\n"
        let byId = Dictionary(uniqueKeysWithValues: plan.points.map { ($0.id, $0) })
        for final in points.sorted(by: { $0.rate < $1.rate }) {
            guard let point = byId[final.pointId] else { continue }
            let run = sweep.run(point)
            let pictures = [("reconstructions", run.reconstructions), ("samples", run.samples), ("toy model", run.toyPicture)]
                .compactMap { name, url in (try? Data(contentsOf: url)).map { (name, $0) } }
            guard !pictures.isEmpty else { continue }
            out += "<div class=\"frontier-point\"><h3>\(escape(point.label)) — R \(String(format: "%.3f", final.rate)), D \(String(format: "%.3f", final.distortion))</h3>\n"
            for (name, png) in pictures {
                out += "<figure><img alt=\"\(name) of \(escape(point.label))\" src=\"data:image/png;base64,\(png.base64EncodedString())\"><figcaption>\(name)</figcaption></figure>\n"
            }
            out += "</div>\n"
        }
        return out + "</div>\n"
    }

    func statusLine(_ runs: [String: [String: String]]) -> String {
        var counts: [String: Int] = [:]
        for run in runs.values { counts[run["status"] ?? "?", default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    /// The rdlab versions, commits and devices the runs used.
    func provenance(_ runs: [String: [String: String]]) -> String {
        func distinct(_ key: String) -> String {
            Set(runs.values.compactMap { $0[key] }.filter { !$0.isEmpty }).sorted().joined(separator: ", ")
        }
        return "\(distinct("rdlab_version")) (commit \(distinct("rdlab_commit"))); devices: \(distinct("device")); backends: \(distinct("backend_used"))"
    }

    func escape(_ text: String) -> String { SVGChart.escape(text) }
}
