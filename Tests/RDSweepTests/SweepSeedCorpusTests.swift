import Foundation
import RDSweep
import Testing

/// Each seed of the `FuzzSweepSpec` corpus gives its own outcome, so a reader that stops
/// refusing one fails here, not only under the fuzzer.
@Suite("Sweep seed corpus")
struct SweepSeedCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus/FuzzSweepSpec")

    @Test(arguments: [
        ("toy-target-rate.yaml", "13 points"),
        ("grid-zip-mapping.yaml", "3 points, iwae 5"),
        ("hit-grid-probes.yaml", "9 points, iwae 2, probes"),
        ("too-many-points.yaml", "expands to 160000 points"),
        ("deep-nesting.yaml", "not YAML"),
        ("undefined-alias.yaml", "not YAML"),
    ])
    func specSeed(file: String, expected: String) throws {
        let text = try String(contentsOf: Self.corpus.appendingPathComponent(file), encoding: .utf8)
        let outcome: String
        do {
            let spec = try SweepSpec.parse(yaml: text, file: file)
            outcome = "\(try spec.points().count) points" + (spec.evaluation?.iwae.map { ", iwae \($0)" } ?? "")
                + (spec.evaluation?.probes == true ? ", probes" : "")
        } catch {
            outcome = "\(error)"
        }
        #expect(outcome.contains(expected), "\(outcome.prefix(300))")
        #expect(outcome.count < 1000, "messages stay short")
    }

    @Test(arguments: [
        ("points-hash-mismatch.json", "point 0's id 000000000000 is not the hash of its flags"),
        ("points-wrong-index.json", "point 0 says it is point 3"),
    ])
    func planSeed(file: String, expected: String) throws {
        let data = try Data(contentsOf: Self.corpus.appendingPathComponent(file))
        #expect(throws: SweepError.damaged(file, "\(expected); it was edited outside rdlab: plan the spec again into a new folder")) {
            try SweepDirectory.decodePlan(data, file: file)
        }
    }
}
