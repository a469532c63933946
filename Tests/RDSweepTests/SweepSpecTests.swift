import Foundation
import RDSweep
import Testing

/// Sweep specs: the axis forms, the two combinations, stable ids, and errors that name the
/// file, line, key and fix.
@Suite("Sweep spec")
struct SweepSpecTests {
    static func parse(_ yaml: String) throws -> SweepSpec { try SweepSpec.parse(yaml: yaml, file: "s.yaml") }

    static func message(_ yaml: String) -> String {
        do {
            _ = try parse(yaml).points()
            return "parsed"
        } catch {
            return "\(error)"
        }
    }

    @Test func productOfAListAndALogRange() throws {
        let spec = try Self.parse("""
            name: grid
            train: {model: alemi, epochs: 2, symmetric_inputs: true, binarize: "none"}
            axes:
              beta: {log: [0.1, 10], points: 5}
              seed: [1, 2]
            """)
        let points = try spec.points()
        #expect(points.count == 10)
        #expect(points.map(\.index) == Array(0..<10))
        #expect(points.map { $0.value(of: "beta")?.number } == [0.1, 0.1, 0.316228, 0.316228, 1, 1, 3.16228, 3.16228, 10, 10])
        #expect(points[3].arguments == ["--model", "alemi", "--epochs", "2", "--symmetric-inputs", "--binarize", "none",
            "--beta", "0.316228", "--seed", "2"])
        #expect(points[3].label == "beta=0.316228 seed=2")
        #expect(Set(points.map(\.id)).count == 10 && points.allSatisfy { $0.id.count == 12 })
    }

    @Test func zipLinearAndMappingAxes() throws {
        let spec = try Self.parse("""
            train: {model: toy}
            axes:
              target_rate: {linear: [0, 3], points: 3}
              variant:
                - {lr: 0.05}
                - {lr: 0.01, seed: 2}
                - {epochs: 40}
            combine: zip
            """)
        let points = try spec.points()
        #expect(spec.name == "s")
        #expect(points.map(\.label) == ["target_rate=0 variant=lr=0.05", "target_rate=1.5 variant=lr=0.01,seed=2",
            "target_rate=3 variant=epochs=40"])
        #expect(points[1].arguments == ["--model", "toy", "--target-rate", "1.5", "--lr", "0.01", "--seed", "2"])
    }

    /// The id hashes the flags, not their order or the point's index.
    @Test func idsDependOnlyOnTheFlags() throws {
        let a = try Self.parse("train: {model: toy, epochs: 3}\naxes: {target_rate: [0.5, 1]}").points()
        let b = try Self.parse("train: {epochs: 3, model: toy}\naxes: {target-rate: [1, 0.5, 2]}").points()
        #expect(a[0].id == b[1].id && a[1].id == b[0].id)
        let c = try Self.parse("train: {model: toy, epochs: 4}\naxes: {target_rate: [0.5]}").points()
        #expect(c[0].id != a[0].id)
    }

    /// Pinned: SHA-256 of `--beta␟0.5␟--epochs␟3␟--symmetric-inputs` (flags sorted, words joined
    /// by U+001F), so that a faster hash of the same words cannot move existing runs' ids.
    @Test func idIsTheDigestOfTheSortedFlagWords() throws {
        let points = try Self.parse("train: {symmetric_inputs: true, epochs: 3}\naxes: {beta: [0.5]}").points()
        #expect(points.map(\.id) == ["43d0578c1414"])
    }

    /// A mixed-radix index picks the same points a nested loop does, last axis fastest.
    @Test func productOfThreeAxesInNestedLoopOrder() throws {
        let points = try Self.parse("axes: {a: [1, 2], b: [x, y, z], c: [true, false]}").points()
        var labels: [String] = []
        for a in ["1", "2"] { for b in ["x", "y", "z"] { for c in ["on", "off"] { labels.append("a=\(a) b=\(b) c=\(c)") } } }
        #expect(points.map(\.label) == labels)
    }

    @Test(arguments: [
        ("axes: {beta: [1]}\nextra: 1", "s.yaml:2:8: extra: unknown key; a spec has name, train, axes, combine"),
        ("train: {model: toy}", "s.yaml: axes: missing"),
        ("axes: {beta: {log: [0, 1], points: 3}}", "axes.beta.log: log spacing needs positive ends (got 0.0, 1.0)"),
        ("axes: {beta: {log: [0.1, 1]}}", "axes.beta.points: missing"),
        ("axes: {beta: {linear: [0.1, 1], points: 0}}", "axes.beta.points: expected a whole number from 1 to 10000"),
        ("axes: {beta: {linear: [0, 1], points: 3, step: 2}}", "axes.beta.step: unknown key"),
        ("axes: {out: [a, b]}", "--out is set by the sweep for each point; remove it"),
        ("train: {beta: 1}\naxes: {beta: [1, 2]}", "axes.beta: sets --beta, which train sets too; set it in one place"),
        ("axes: {beta: [1, 2], seed: [1]}\ncombine: zip", "combine: zip needs axes of one length; beta has 2 values, seed 1"),
        ("axes: {beta: [1, 2]}\ncombine: cross", "combine: 'cross' is not one of product, zip"),
        ("axes: {beta: [1, 1]}", "axes: points 0 and 1 have the same settings (beta=1)"),
        ("axes: {beta: []}", "axes.beta: give at least one value"),
        ("axes: {beta: [[1]]}", "axes.beta[0]: expected a single value, not a list or mapping"),
        ("axes: [beta]", "axes: expected a mapping"),
        ("axes: {beta: [1]}\naxes: {seed: [2]}", "duplicated key(s): 'axes'"),
        ("axes: {beta: [.nan]}", "axes.beta[0]: must be finite"),
        ("axes: {beta: [~]}", "axes.beta[0]: has no value"),
        ("", "the file is empty"),
        ("axes: {beta: [1", "not YAML"),
        ("train: {\((0..<100).map { "f\($0): 1" }.joined(separator: ", "))}\naxes: {beta: [1]}", "(top): sets 101 different flags, more than 100"),
        ("axes: {a: {log: [1, 2], points: 200}, b: {log: [1, 2], points: 400}}", "expands to 80000 points, more than 10000"),
        ("axes: {beta: [1]}\nevaluate: {probes: 1}", "s.yaml:2:20: evaluate.probes: expected true or false"),
        ("axes: {beta: [1]}\nevaluate: {probes: yes please}", "evaluate.probes: expected true or false"),
        ("axes: {beta: [1]}\nevaluate: {probe: true}", "evaluate.probe: unknown key; evaluate has iwae (importance samples K) and probes"),
        ("axes: {beta: [1]}\nevaluate: {}", "evaluate: give iwae, probes or both"),
        ("axes: {beta: [1]}\nevaluate: {iwae: 0, probes: true}", "evaluate.iwae: expected a whole number from 1 to 65535"),
    ])
    func refusedWithTheKeyAndTheFix(yaml: String, expected: String) {
        let message = Self.message(yaml)
        #expect(message.contains(expected), "\(message)")
    }

    @Test func quotedValuesStayText() throws {
        let points = try Self.parse("axes: {activation: ['1', relu, true]}").points()
        #expect(points.map(\.arguments) == [["--activation", "1"], ["--activation", "relu"], ["--activation"]])
    }

    /// `evaluate:` takes iwae, probes or both; `{probes: false}` alone evaluates nothing. The
    /// runner's `rdlab eval` flags follow, and a plan written before probes existed still reads.
    @Test func evaluateProbesAndIWAE() throws {
        let axes = "train: {model: hierarchical}\naxes: {beta1: [0.1, 10], beta2: [1]}\n"
        let probes = try Self.parse(axes + "evaluate: {probes: true}").evaluation
        #expect(probes == SweepSpec.Evaluation(iwae: nil, probes: true) && probes?.arguments == ["--probes"])
        let both = try Self.parse(axes + "evaluate: {iwae: 5, probes: true}").evaluation
        #expect(both?.arguments == ["--iwae", "5", "--probes"])
        #expect(try Self.parse(axes + "evaluate: {iwae: 5}").evaluation?.arguments == ["--iwae", "5"])
        #expect(try Self.parse(axes + "evaluate: {probes: false}").evaluation == nil)
        let decoder = JSONDecoder()
        #expect(try decoder.decode(SweepSpec.Evaluation.self, from: Data(#"{"iwae": 5}"#.utf8)) == SweepSpec.Evaluation(iwae: 5))
        let encoded = try JSONEncoder().encode(SweepSpec.Evaluation(probes: true))
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"probes":true}"#)
        #expect(try decoder.decode(SweepSpec.Evaluation.self, from: encoded) == SweepSpec.Evaluation(probes: true))
    }
}
