import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// Alemi's autoencoder with the δ-VAE channel (`--channel delta`): trained on every backend
/// with either decoder, its rate never below the committed D·δ; its settings in files and
/// their checks.
@Suite("δ-VAE autoencoder", .serialized)
struct DeltaAutoencoderTests {
    static func spec(_ decoder: DecoderKind, delta: Double = 0.5) -> AlemiSpec {
        AlemiSpec(latentDimension: 4, decoder: decoder, pixelcnnFeatures: 4, pixelcnnResnets: 1, channel: .delta, delta: delta)
    }

    /// A few Adam steps on binarized MNIST: the batch rate is at least D·δ = 2 nats at every
    /// step (within Float rounding), and so is every test example's, with an IWAE weight.
    @Test(arguments: DecoderKind.allCases)
    func rateStaysCommittedWhileTraining(_ decoder: DecoderKind) throws {
        let (train, test) = try #require(VAETests.mnist, "binarized MNIST fixtures not found in Tests/Fixtures/datasets")
        let committed = 2.0, batch = 6
        for target in AvailableBackends.all {
            let model = try ConvAutoencoder(Self.spec(decoder), backend: target.backend, seed: 4)
            #expect(model.rateFloor == committed && model.spec.family == (decoder == .deconv ? "δ--" : "δ+-"))
            let trainer = ModelTrainer.plain(model, lr: 3e-3, steps: 4, seed: 4)
            for step in 0..<4 {
                let stats = try trainer.train(train.batch((step * batch)..<((step + 1) * batch), binarization: .none, seed: 0, epoch: 0),
                    batch: batch)
                #expect(stats.rate >= committed - 1e-5 && stats.distortion.isFinite,
                    "\(decoder) on \(target.backend.displayName), step \(step): R \(stats.rate) D \(stats.distortion)")
            }
            let graph = Graph(backend: target.backend)
            let images = try graph.constant(test.batch(0..<batch, binarization: .none, seed: 0, epoch: 0), shape: [batch, 28, 28, 1])
            let out = try model(images, in: graph, seed: 4, noiseStream: 1)
            let perExample = try graph.values(out.rates[0].rate)
            #expect(perExample.allSatisfy { Double($0) >= committed - 1e-5 }, "\(target.backend.displayName): \(perExample)")
            guard case .available(let logWeights) = out.importanceWeights else {
                Issue.record("the δ-VAE channel has a density e(z|x): IWAE weights should be available")
                continue
            }
            #expect(try graph.values(try logWeights()).allSatisfy { $0.isFinite })
        }
    }

    /// config.json and checkpoints: the channel and δ round-trip; files written before them
    /// read as the free Gaussian channel.
    @Test func settingsRoundTripAndDefault() throws {
        let spec = ModelSpec.alemi(Self.spec(.pixelcnn, delta: 0.25))
        let data = try JSONEncoder.rdlab(pretty: false).encode(spec)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"channel\":\"delta\"") && text.contains("\"delta\":0.25"), "\(text)")
        #expect(try JSONDecoder.rdlab.decode(ModelSpec.self, from: data) == spec)
        let older = try JSONDecoder.rdlab.decode(ModelSpec.self, from: Data(#"{"kind": "alemi", "latent_dimension": 8}"#.utf8))
        #expect(older == .alemi(AlemiSpec(latentDimension: 8)))
        guard case .alemi(let read) = older else { return }
        #expect(read.channel == .gaussian && read.delta == 0.1 && read.family == "---")
        let unknown = #"{"kind": "alemi", "channel": "echo"}"#
        #expect(throws: DecodingError.self) { _ = try JSONDecoder.rdlab.decode(ModelSpec.self, from: Data(unknown.utf8)) }
    }

    /// δ outside (0, 10] and the channel with an IAF encoder or a learned marginal are refused,
    /// naming the flag and what to use; the model refuses them too rather than trap.
    @Test func refusals() throws {
        for delta in [0, -1, 10.5, .nan, .infinity] {
            let problem = AlemiSpec(channel: .delta, delta: delta).problem()
            #expect(problem?.setting == .delta, "δ = \(delta): \(String(describing: problem))")
        }
        #expect(AlemiSpec(channel: .delta, delta: 10).problem() == nil)
        let iaf = AlemiSpec(encoder: .iaf, channel: .delta).problem()
        #expect(iaf?.setting == .channel && iaf?.reason.contains("--encoder gaussian") == true, "\(String(describing: iaf))")
        for marginal in [MarginalKind.maf, .vamp] {
            let problem = AlemiSpec(marginal: marginal, channel: .delta).problem()
            #expect(problem?.setting == .channel && problem?.reason.contains("--marginal normal") == true, "\(String(describing: problem))")
            #expect(throws: ComputeError.self) {
                _ = try ConvAutoencoder(AlemiSpec(latentDimension: 2, marginal: marginal, vampComponents: 2, channel: .delta),
                    backend: AvailableBackends.cpu.backend, seed: 0)
            }
        }
        #expect(Setting.channel.flag == "--channel" && Setting.channel.field == "settings.model.channel")
        #expect(Setting.delta.flag == "--delta" && Setting.delta.field == "settings.model.delta")
    }
}
