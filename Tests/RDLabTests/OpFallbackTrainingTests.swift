import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// Op fallback end to end: a backend with GEMM only, completed by the CPU backend
/// (``OpFallbackBackend``), trains the reference VAE as the CPU backend alone does, and
/// counts the buffers it moved for every op but GEMM.
@Suite("Op fallback training")
struct OpFallbackTrainingTests {
    static let steps = 10

    /// Rate and distortion of each of `steps` Adam steps (lr 1e-3) on batches of 8 fixture images.
    static func losses(on backend: any Backend) throws -> [RateDistortion] {
        let train = try DataLocator(dataDirectory: TestDatasets.fixtures, environment: ["RDLAB_OFFLINE": "1"])
            .load("binarized-mnist", split: "train")
        let model = try ModelSpec.alemi(AlemiSpec()).makeModel(backend: backend, seed: 5)
        let trainer = ModelTrainer.plain(model, lr: 1e-3, steps: steps, seed: 5)
        return try (0..<steps).map { step in
            try trainer.train(train.batch((step * 8)..<(step * 8 + 8), binarization: .none, seed: 5, epoch: 0), batch: 8)
        }
    }

    @Test func gemmOnlyBackendTrainsTheVAEToTheCPULosses() throws {
        let clock = ContinuousClock()
        var reference: [RateDistortion] = []
        let cpuTime = try clock.measure { reference = try Self.losses(on: AvailableBackends.cpu.backend) }
        let log = LogRecorder()
        let backend = OpFallbackBackend(primary: GEMMOnlyBackend(), fallback: AvailableBackends.cpu.backend, logger: log.logger)
        var losses: [RateDistortion] = []
        let fallbackTime = try clock.measure { losses = try Self.losses(on: backend) }
        print("\(Self.steps) VAE steps: cpu \(cpuTime), GEMM-only + cpu fallback \(fallbackTime)")

        #expect(losses.count == reference.count)
        for (step, (got, want)) in zip(losses, reference).enumerated() {
            #expect(abs(got.rate - want.rate) <= 1e-5 * abs(want.rate), "step \(step): R \(got.rate), cpu \(want.rate)")
            #expect(abs(got.distortion - want.distortion) <= 1e-5 * abs(want.distortion),
                "step \(step): D \(got.distortion), cpu \(want.distortion)")
        }

        let transfers = backend.transfers
        #expect(transfers[.gemm] == nil)
        #expect(!transfers.isEmpty && transfers.values.allSatisfy { $0.calls > 0 && $0.transfers > 0 && $0.bytes > 0 })
        #expect(backend.transferSummary.count == transfers.count)
        let notices = log.lines.filter { $0.0 == .info && $0.1.contains("running it on cpu") }
        #expect(notices.count == transfers.count, "one INFO line per op that fell back")
        #expect(!notices.contains { $0.1.contains("op gemm ") })
    }
}
