import Foundation
import Testing

/// `rdlab sweep report` and `compare` on a small toy grid, and the page rendered by headless
/// Chromium (installed by scripts/test; RDLAB_TEST_REQUIRE_CHROMIUM=1 makes its absence a failure).
@Suite("rdlab sweep report", .serialized)
struct SweepReportTests {
    static var chromium: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in path.split(separator: ":") {
                let url = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
    }

    /// Runs headless Chromium on `page`; its stdout.
    static func chromium(_ browser: URL, _ arguments: [String], page: URL) throws -> String {
        let process = Process()
        process.executableURL = browser
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,3000"]
            + arguments + [page.absoluteString]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func reportIsSelfContainedAndRendersInChromium() throws {
        let root = try RDLabProcess.temporaryDirectory("sweep-report")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("grid.yaml"), sweep = root.appendingPathComponent("grid")
        try Data("name: grid\ntrain: {model: toy, backend: cpu, epochs: 2}\naxes:\n  beta: [0.5, 2]\n  target_rate: [0.5, 1]\n".utf8).write(to: spec)
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.path]).status == 0)
        #expect(try RDLabProcess.run(["sweep", "run", sweep.path, "--jobs", "2"]).status == 0)
        let report = try RDLabProcess.run(["sweep", "report", sweep.path, "--compare", sweep.path])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("mean D_A − D_B = +0.000 nats") && report.stdout.contains("area between the frontiers 0.000"),
            "\(report.stdout)")
        let page = sweep.appendingPathComponent("report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        for plot in ["rd-plane", "elbo-rate", "trajectories", "heatmap-distortion", "heatmap-rate"] {
            #expect(html.contains("<figure id=\"plot-\(plot)\"><svg"), "no \(plot)")
        }
        #expect(html.components(separatedBy: "<tr").count - 1 == 1 + 4, "a header and four points")
        #expect(html.contains("data:image/png;base64,") && html.contains("toy model"), "the frontier points' toy.png")
        #expect(html.contains("train: {model: toy") && html.contains("Compared with other sweeps"))
        let outside = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!outside.contains("http://") && !outside.contains("https://"), "nothing loaded from the network")

        guard let browser = Self.chromium else {
            #expect(ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_CHROMIUM"] != "1", "chromium is not installed (scripts/test installs it)")
            return
        }
        // the browser parsed the inline SVG and ran the page's script: 4 points in each of three
        // charts (the trajectories draw 2 epochs each) and 4 cells in each heatmap
        let dom = try Self.chromium(browser, ["--dump-dom"], page: page)
        #expect(dom.contains("data-drawn=\"\(4 + 4 + 8 + 4 + 4)\""), "\(dom.prefix(300))")
        let blank = root.appendingPathComponent("blank.html")
        try Data("<!DOCTYPE html><html><body></body></html>".utf8).write(to: blank)
        let shot = root.appendingPathComponent("report.png"), empty = root.appendingPathComponent("blank.png")
        _ = try Self.chromium(browser, ["--screenshot=\(shot.path)"], page: page)
        _ = try Self.chromium(browser, ["--screenshot=\(empty.path)"], page: blank)
        let drawn = try Data(contentsOf: shot), nothing = try Data(contentsOf: empty)
        #expect(drawn.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // a page of the same size with nothing drawn compresses to about 17 KB; the plots make it ~160 KB
        #expect(drawn.count > 4 * nothing.count, "report \(drawn.count) bytes, blank page \(nothing.count)")
    }
}
