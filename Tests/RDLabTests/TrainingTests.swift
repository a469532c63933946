import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

@Suite("Training pieces")
struct TrainingTests {
    static func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)")
    }

    @Test func safetensorsRoundTripAndTruncation() throws {
        let url = Self.temporaryFile("t.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let tensors = ["a.weight": SafeTensors.Entry(shape: [2, 3], values: [1, -2, 3.5, .pi, 0, -0]),
            "b": SafeTensors.Entry(shape: [1], values: [7])]
        try SafeTensors.write(tensors, metadata: ["step": "12"], to: url)
        let (read, metadata) = try SafeTensors.read(url)
        #expect(read == tensors && metadata["step"] == "12")
        let bytes = try Data(contentsOf: url)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect((8 + headerLength) % 8 == 0)
        try bytes.prefix(bytes.count - 4).write(to: url)
        #expect(throws: CheckpointError.self) { try SafeTensors.read(url) }
    }

    @Test func schedules() {
        let annealed = Objective(ObjectiveSpec(weight: .annealed(beta: 2, steps: 100)))
        #expect(annealed.beta(of: "z", at: 0) == 0 && annealed.beta(of: "z", at: 50) == 1 && annealed.beta(of: "z", at: 500) == 2)
        #expect(Objective(ObjectiveSpec(weight: .constant(beta: 0.5))).beta(of: "z", at: 0) == 0.5)
        let alemi = LearningRateSchedule(kind: .alemi, learningRate: 3e-4, totalSteps: 200)
        #expect(alemi.value(at: 0) == 3e-4 && alemi.value(at: 99) == 3e-4)
        #expect(abs(alemi.value(at: 150) - 1.5e-4) < 1e-9 && alemi.value(at: 200) == 0)
        #expect(LearningRateSchedule(kind: .constant, learningRate: 1e-3, totalSteps: 10).value(at: 9) == 1e-3)
    }

    static func images(_ batch: Int, seed: UInt64) -> [Float] {
        var data = TestData(seed: seed)
        return data.values(batch * 784, in: 0...1).map { $0 > 0.7 ? 1 : 0 }
    }

    static func trainer(_ backend: any Backend, seed: UInt64 = 3) throws -> ModelTrainer {
        ModelTrainer.plain(try ConvAutoencoder(AlemiSpec(latentDimension: 8), backend: backend, seed: seed), lr: 1e-3, steps: 10,
            seed: seed, optimizer: Adam(backend: backend))
    }

    @Test(arguments: AvailableBackends.all)
    func betaVAEShapesAndAStep(_ target: BackendUnderTest) throws {
        let trainer = try Self.trainer(target.backend)
        let graph = Graph(backend: target.backend)
        let out = try trainer.model(try graph.constant(Self.images(2, seed: 1), shape: [2, 28, 28, 1]), in: graph, seed: 1,
            noiseStream: 0)
        #expect(out.distortion.shape == [2] && out.latent.shape == [2, 8] && out.rate.shape == [2])
        #expect(try graph.values(out.rate).allSatisfy { $0 >= 0 })
        let first = try trainer.train(Self.images(2, seed: 1), batch: 2)
        #expect(first.rate.isFinite && first.distortion > 100, "Bernoulli NLL of 784 pixels starts near 784·ln 2")
        #expect(trainer.step == 1)
    }

    /// Two steps straight, or one step + checkpoint + restore into a fresh model + one step:
    /// the same parameters to the bit.
    @Test func resumingFromACheckpointContinuesExactly() throws {
        let backend = AvailableBackends.cpu.backend
        let url = Self.temporaryFile("resume.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let straight = try Self.trainer(backend)
        _ = try straight.train(Self.images(2, seed: 1), batch: 2)
        _ = try straight.train(Self.images(2, seed: 2), batch: 2)

        let interrupted = try Self.trainer(backend)
        _ = try interrupted.train(Self.images(2, seed: 1), batch: 2)
        try Checkpoint(step: interrupted.step, epoch: 0, model: interrupted.model.spec)
            .save(model: interrupted.model, optimizer: interrupted.optimizer, to: url)
        let resumed = try Self.trainer(backend, seed: 3)
        let fresh = try ConvAutoencoder(AlemiSpec(latentDimension: 8), backend: backend, seed: 99)
        let restored = try Checkpoint.restore(from: url, into: fresh, optimizer: resumed.optimizer)
        #expect(restored.step == 1 && restored.model == .alemi(AlemiSpec(latentDimension: 8)))
        let continuing = ModelTrainer(model: fresh, optimizer: resumed.optimizer, objective: resumed.objective,
            learningRate: resumed.learningRate, seed: 3, step: restored.step)
        _ = try continuing.train(Self.images(2, seed: 2), batch: 2)
        for (a, b) in zip(straight.model.parameters, continuing.model.parameters) {
            #expect(a.name == b.name)
            #expect(try backend.download(a.tensor.buffer) == backend.download(b.tensor.buffer), "\(a.name) differs after resume")
        }
        let other = try ConvAutoencoder(AlemiSpec(latentDimension: 16), backend: backend, seed: 3)
        #expect(throws: CheckpointError.self) { try Checkpoint.restore(from: url, into: other, optimizer: nil) }
    }
}
