import Foundation
import RDCompute
import RDData
import RDFiles
import RDLab
import RDTestSupport
import Testing

/// The first 20 training steps of families `---`, `-+v`, `++-` and Echo on the CPU, as written
/// by the code before the model layer was opened (issue 16): a refactor must reproduce every
/// rate and distortion bit for bit. `RDLAB_WRITE_GOLDEN=1` rewrites the file (only when the
/// numbers are meant to change, saying why in the commit).
@Suite("Golden trajectories")
struct GoldenTrajectoryTests {
    static let file = URL(fileURLWithPath: TestDatasets.fixtures).deletingLastPathComponent()
        .appendingPathComponent("golden/trajectories.json")

    /// Small layers keep the four runs to seconds; everything else is each family's own path.
    static let families: [(String, ModelSpec)] = [
        ("---", .alemi(AlemiSpec(latentDimension: 8))),
        ("-+v", .alemi(AlemiSpec(latentDimension: 8, activation: .gated, symmetricInputs: true, decoder: .pixelcnn, marginal: .vamp,
            vampComponents: 5, pixelcnnFeatures: 4, pixelcnnResnets: 1))),
        ("++-", .alemi(AlemiSpec(latentDimension: 8, encoder: .iaf, decoder: .pixelcnn, flowSteps: 2, madeHidden: [16, 16],
            pixelcnnFeatures: 4, pixelcnnResnets: 1))),
        ("echo", .echo(EchoSpec(latentDimension: 8, terms: 7))),
    ]

    struct Step: Codable, Equatable {
        /// Batch means in nats, and their IEEE-754 bit patterns (what is compared).
        var rate: Double
        var distortion: Double
        var rateBits: String
        var distortionBits: String

        init(_ stats: RateDistortion) {
            rate = stats.rate
            distortion = stats.distortion
            rateBits = String(stats.rate.bitPattern, radix: 16)
            distortionBits = String(stats.distortion.bitPattern, radix: 16)
        }
    }

    /// 20 steps of Adam (lr 1e-3, β = 1) on batches of 8 fixture images in order, seed 11.
    static func trajectory(_ spec: ModelSpec) throws -> [Step] {
        let backend = AvailableBackends.cpu.backend
        let train = try DataLocator(dataDirectory: TestDatasets.fixtures, environment: ["RDLAB_OFFLINE": "1"])
            .load("binarized-mnist", split: "train")
        let trainer = ModelTrainer.plain(try spec.makeModel(backend: backend, seed: 11), lr: 1e-3, steps: 20, seed: 11)
        return try (0..<20).map { step in
            Step(try trainer.train(train.batch((step * 8)..<(step * 8 + 8), binarization: .none, seed: 11, epoch: 0), batch: 8))
        }
    }

    @Test func trajectoriesAreReproducedBitForBit() throws {
        var computed: [String: [Step]] = [:]
        for (family, spec) in Self.families { computed[family] = try Self.trajectory(spec) }
        if ProcessInfo.processInfo.environment["RDLAB_WRITE_GOLDEN"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(computed), to: Self.file)
            print("golden trajectories written to \(Self.file.path)")
        }
        let golden = try JSONDecoder().decode([String: [Step]].self, from: Data(contentsOf: Self.file))
        #expect(Set(golden.keys) == Set(Self.families.map(\.0)))
        for (family, steps) in computed {
            let expected = try #require(golden[family])
            #expect(steps.count == 20 && expected.count == 20)
            for (index, (got, want)) in zip(steps, expected).enumerated() {
                #expect(got.rateBits == want.rateBits && got.distortionBits == want.distortionBits,
                    "\(family) step \(index): R \(got.rate) D \(got.distortion), golden R \(want.rate) D \(want.distortion)")
            }
        }
    }
}
