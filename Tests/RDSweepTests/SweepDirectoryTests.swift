import Foundation
import RDSweep
import Testing

/// The sweep folder: planning again changes nothing, another plan is refused, and a hand-edited
/// `points.json` is refused before its ids become folder names.
@Suite("Sweep directory")
struct SweepDirectoryTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/sweeps")

    static func folder() -> SweepDirectory {
        SweepDirectory(url: FileManager.default.temporaryDirectory.appendingPathComponent("rdsweep-dir-\(UUID().uuidString)"))
    }

    /// Whole-number values (`3`, written by JSON as `3` whether integer or not) plan to the same points.
    @Test(arguments: ["toy-target-rate.yaml", "beta-vae-mnist.yaml"])
    func planningTheExamplesAgainChangesNothing(file: String) throws {
        let sweep = Self.folder()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let yaml = try String(contentsOf: Self.examples.appendingPathComponent(file), encoding: .utf8)
        let spec = try SweepSpec.parse(yaml: yaml, file: file)
        #expect(try sweep.create(yaml: yaml, spec: spec))
        #expect(try !sweep.create(yaml: yaml, spec: spec))
        #expect(try sweep.readPlan().points.map(\.id) == spec.points().map(\.id))
        let other = try SweepSpec.parse(yaml: yaml + "  seed: [7]\n", file: file)  // one more axis (the last key)
        #expect(throws: SweepError.planMismatch(sweep.url.path, try spec.points().count)) { try sweep.create(yaml: yaml, spec: other) }
    }

    @Test(arguments: [
        ("\"index\" : 1,", "\"index\" : 7,", "point 1 says it is point 7"),
        ("\"value\" : \"1\"", "\"value\" : \"one\"", nil),
    ] as [(String, String, String?)])
    func editedPlansAreRefused(original: String, edited: String, expected: String?) throws {
        let sweep = Self.folder()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let yaml = "train: {model: toy}\naxes: {seed: [1, 2, 3]}\n"
        try sweep.create(yaml: yaml, spec: try SweepSpec.parse(yaml: yaml, file: "s.yaml"))
        var text = try String(contentsOf: sweep.plan, encoding: .utf8)
        text = text.replacingOccurrences(of: original, with: edited)
        try Data(text.utf8).write(to: sweep.plan)
        if let expected {
            #expect(throws: SweepError.damaged(sweep.plan.path, "\(expected); it was edited outside rdlab: plan the spec again into a new folder")) {
                try sweep.readPlan()
            }
        } else {
            _ = try sweep.readPlan()  // labels are not part of a point's identity
        }
    }

    @Test func aChangedFlagOrARepeatedIdIsRefused() throws {
        let sweep = Self.folder()
        defer { try? FileManager.default.removeItem(at: sweep.url) }
        let yaml = "train: {model: toy}\naxes: {seed: [1, 2]}\n"
        let spec = try SweepSpec.parse(yaml: yaml, file: "s.yaml")
        try sweep.create(yaml: yaml, spec: spec)
        let points = try spec.points()
        let original = try String(contentsOf: sweep.plan, encoding: .utf8)
        try Data(original.replacingOccurrences(of: "\"value\" : 2", with: "\"value\" : 5").utf8).write(to: sweep.plan)
        #expect(throws: SweepError.damaged(sweep.plan.path,
            "point 1's id \(points[1].id) is not the hash of its flags; it was edited outside rdlab: plan the spec again into a new folder")) {
            try sweep.readPlan()
        }
        try Data(original.replacingOccurrences(of: points[1].id, with: "../../etc").utf8).write(to: sweep.plan)
        #expect(throws: SweepError.self) { try sweep.readPlan() }
    }
}
