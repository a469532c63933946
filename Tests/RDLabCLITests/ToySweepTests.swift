import Foundation
import RDSweep
import Testing

/// Alemi's toy model swept through `rdlab sweep` (H is known exactly): the target-rate sweep of
/// `Examples/sweeps/toy-target-rate.yaml` puts every point on D = H − R and its convex hull is that
/// line; a β sweep shows the auto-encoding (β < 1: R ≈ H) and auto-decoding (β > 1: R ≈ 0) ends.
@Suite("Toy model sweeps", .serialized)
struct ToySweepTests {
    static let entropy = 3.018393
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/sweeps")

    /// Plans and runs `spec` with two jobs on the CPU; the store after `collect`.
    static func sweep(_ spec: URL, in root: URL) throws -> (SweepDirectory, [FinalPoint]) {
        let sweep = SweepDirectory(url: root.appendingPathComponent(spec.deletingPathExtension().lastPathComponent))
        #expect(try RDLabProcess.run(["sweep", "plan", spec.path, "--out", sweep.url.path]).status == 0)
        let run = try RDLabProcess.run(["sweep", "run", sweep.url.path, "--jobs", "2"], environment: ["RDLAB_BACKEND": "cpu"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let collect = try RDLabProcess.run(["sweep", "collect", sweep.url.path])
        #expect(collect.status == 0, "\(collect.stderr)")
        return (sweep, try ResultsStore(url: sweep.results).finalPoints())
    }

    @Test func targetRateSweepLiesOnTheFrontier() throws {
        let root = try RDLabProcess.temporaryDirectory("toy-sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, points) = try Self.sweep(Self.examples.appendingPathComponent("toy-target-rate.yaml"), in: root)
        #expect(points.count == 13)
        for (i, point) in points.enumerated() {
            let target = 0.25 * Double(i)
            #expect(abs(point.rate - target) < 0.01, "\(point.label): R \(point.rate)")
            #expect(abs(point.distortion - (Self.entropy - point.rate)) < 0.02, "\(point.label): D \(point.distortion), R \(point.rate)")
        }
        // the hull of points on a line is the line: its corners lie on it and span it
        let plane = points.map { RDPoint(rate: $0.rate, distortion: $0.distortion) }
        let hull = Frontier.lowerConvexHull(plane).map { plane[$0] }
        #expect(hull.allSatisfy { abs($0.distortion + $0.rate - Self.entropy) < 0.02 }, "\(hull)")
        #expect(abs(hull.first!.rate) < 0.01 && abs(hull.last!.rate - 3) < 0.01, "\(hull)")
        for r in stride(from: 0.0, through: 3.0, by: 0.1) {
            let inside = min(max(r, hull.first!.rate), hull.last!.rate)
            let d = try #require(Frontier.interpolate(hull, at: inside))
            #expect(abs(d - (Self.entropy - inside)) < 0.02, "hull at R = \(inside): \(d)")
        }
    }

    @Test func betaSweepShowsBothEnds() throws {
        let root = try RDLabProcess.temporaryDirectory("toy-beta")
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = root.appendingPathComponent("toy-beta.yaml")
        try Data("train: {model: toy, toy_init: ordered, epochs: 50}\naxes: {beta: [0.5, 2]}\n".utf8).write(to: spec)
        let (_, points) = try Self.sweep(spec, in: root)
        #expect(points.count == 2)
        #expect(points[0].rate > Self.entropy - 0.1, "β = 0.5 should auto-encode: R \(points[0].rate)")
        #expect(points[1].rate < 0.01, "β = 2 should auto-decode: R \(points[1].rate)")
        #expect(points.allSatisfy { abs($0.distortion + $0.rate - Self.entropy) < 0.02 }, "\(points)")
    }
}
