import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

/// What only the Echo autoencoder has (its gradients, trajectories and learning are in
/// ``VAETests``, run with each channel).
@Suite("Echo autoencoder", .serialized)
struct EchoAutoencoderTests {
    /// Shapes, the exact rate −Σ log s against its floor −D log r, and a training step.
    @Test(arguments: AvailableBackends.all)
    func shapesRateFloorAndAStep(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let model = try ChannelVariant.all[1].configuration(latent: 8, batch: 8).conv(backend, seed: 3)
        let echo = try #require(model.channel as? EchoChannel)
        #expect(abs(echo.clip - EchoClip.factor(terms: 7)) < 1e-12)
        #expect(model.parameters.contains { $0.name == "encoder.echo_f.weight" })
        let graph = Graph(backend: backend)
        let out = try model(try graph.constant(VAETests.images(8, seed: 1), shape: [8, 28, 28, 1]), in: graph, seed: 1,
            noiseStream: 0)
        #expect(out.latent.shape == [8, 8] && out.rate.shape == [8] && out.distortion.shape == [8])
        let rates = try graph.values(out.rate)
        let floor = try #require(echo.rateFloor)
        #expect(rates.allSatisfy { Double($0) >= floor - 1e-4 }, "rates \(rates), floor \(floor)")
        let trainer = ModelTrainer.plain(model, lr: 1e-3, steps: 2, seed: 3)
        let step = try trainer.train(VAETests.images(8, seed: 2), batch: 8)
        #expect(step.rate.isFinite && step.distortion > 100)
    }
}
