import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// Alemi's twelve families (encoder − / +, decoder − / +, marginal − / + / v), each trained
/// for a few steps on binarized MNIST on every backend: finite, and tagged as named.
@Suite("Model families", .serialized)
struct FamilyTests {
    struct Family: Sendable, CustomTestStringConvertible {
        let encoder: EncoderKind
        let decoder: DecoderKind
        let marginal: MarginalKind
        var testDescription: String { configuration.family }

        /// Small layers keep twelve families × backends quick.
        var configuration: AlemiSpec {
            AlemiSpec(latentDimension: 4, encoder: encoder, decoder: decoder, marginal: marginal, flowSteps: 2, madeHidden: [8, 8],
                vampComponents: 3, pixelcnnFeatures: 4, pixelcnnResnets: 1)
        }

        static let all: [Family] = EncoderKind.allCases.flatMap { e in
            DecoderKind.allCases.flatMap { d in MarginalKind.allCases.map { Family(encoder: e, decoder: d, marginal: $0) } }
        }
    }

    @Test func twelveDistinctTags() {
        let tags = Family.all.map(\.testDescription)
        #expect(Set(tags).count == 12)
        #expect(tags.contains("-+v") && tags.contains("++-") && tags.contains("+-+"))
    }

    @Test(arguments: Family.all)
    func trainsWithoutNaN(_ family: Family) throws {
        let train = try #require(VAETests.mnist, "binarized MNIST fixtures not found in Tests/Fixtures/datasets").train
        for target in AvailableBackends.all {
            let backend = target.backend
            let model = try ConvAutoencoder(family.configuration, backend: backend, seed: 4)
            let trainer = ModelTrainer.plain(model, lr: 1e-3, steps: 3, seed: 4)
            for step in 0..<3 {
                let stats = try trainer.train(train.batch((step * 6)..<(step * 6 + 6), binarization: .none, seed: 0, epoch: 0),
                    batch: 6)
                #expect(stats.rate.isFinite && stats.distortion.isFinite,
                    "\(family.testDescription) on \(target.backend.displayName), step \(step): R \(stats.rate) D \(stats.distortion)")
            }
        }
    }
}
