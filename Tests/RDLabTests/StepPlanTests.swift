import Foundation
import RDBackendCPU
import RDBackendOpenCL
import RDCompute
import RDParity
@testable import RDLab
import RDTestSupport
import Testing

/// Replayed step plans against eager steps: the same batch means and parameters to the last
/// bit, on every backend, for every kind of model; the steps that must not replay do not.
@Suite("Step plans")
struct StepPlanTests {
    static let models: [ModelSpec] = [
        .alemi(AlemiSpec(latentDimension: 4)),
        .alemi(AlemiSpec(latentDimension: 4, encoder: .iaf, marginal: .maf, flowSteps: 1, madeHidden: [8])),
        .alemi(AlemiSpec(latentDimension: 4, activation: .gated, decoder: .pixelcnn, marginal: .vamp, vampComponents: 3,
            pixelcnnFeatures: 4, pixelcnnResnets: 1)),
        .hierarchical(HierarchicalSpec(inference: .lvae, channels: 2, topDimension: 2)),
        .delta(DeltaSpec(rowDimension: 2, pixelcnnFeatures: 4, pixelcnnResnets: 1)),
        .toy(ToySpec()),
    ]

    /// Binary images, a different batch per step.
    static func batches(_ count: Int, size: Int = 3) -> [HostBatch] {
        var data = TestData(seed: 31)
        return (0..<count).map { _ in
            HostBatch(values: data.values(size * 784, in: 0...1).map { $0.rounded() }, shape: [size, 28, 28, 1])
        }
    }

    /// Trains a fresh model (seed 5) on `batches`; the means of every step and the parameters after.
    static func run(_ spec: ModelSpec, on backend: any Backend, _ batches: [HostBatch], planning: StepPlanning,
        objective: ObjectiveSpec = ObjectiveSpec(), stepsPerEpoch: Int = 1, activations: ActivationMemory = .kept,
        normalizeGradients: Bool = false) throws -> (means: [RateDistortion], parameters: [[Float]], replayed: Int, fused: Int) {
        let model = try spec.makeModel(backend: backend, seed: 5)
        let trainer = ModelTrainer(model: model, optimizer: Adam(backend: backend, normalizeGradients: normalizeGradients),
            objective: Objective(objective, stepsPerEpoch: stepsPerEpoch),
            learningRate: LearningRateSchedule(kind: .alemi, learningRate: 1e-3, totalSteps: batches.count), seed: 9,
            activations: activations, planning: planning)
        let means = try batches.map { try trainer.train($0) }
        return (means, try model.parameters.map { try backend.download($0.tensor.buffer) }, trainer.replayedSteps,
            trainer.fusedConvPasses)
    }

    @Test(arguments: AvailableBackends.all, models)
    func replayedStepsEqualEagerSteps(_ target: BackendUnderTest, _ spec: ModelSpec) throws {
        let batches = spec.kind == .toy ? Array(repeating: ToyDistribution().trainingBatch(epoch: 0, index: 0), count: 6)
            : Self.batches(6)
        let eager = try Self.run(spec, on: target.backend, batches, planning: .eager)
        let replayed = try Self.run(spec, on: target.backend, batches, planning: .replayed)
        #expect(replayed.replayed == 3, "\(spec.kind): steps 3 to 5 replay the plan of steps 1 and 2")
        #expect(eager.replayed == 0)
        #expect(replayed.means == eager.means)
        #expect(replayed.parameters == eager.parameters)
        if spec == Self.models[0] {
            // conv layers with bias and ReLU: 4 encoder and 5 decoder forward passes, and the
            // backward passes into them (enc1's input and the latent have none)
            #expect(replayed.fused == 21, "conv passes fused with a ReLU's op")
        }
    }

    /// The buffers a backend has made (the built-in backends count them).
    static func buffersMade(_ backend: any Backend) -> Int? {
        (backend as? CPUBackend)?.buffersMade ?? (backend as? OpenCLBackend)?.buffersMade
    }

    /// Once the plan is made (by the third step, the second take), the three replayed steps
    /// after it make no buffer: none on the CPU, and no `cl_mem` on OpenCL.
    @Test(arguments: AvailableBackends.all)
    func replayedStepsMakeNoBuffer(_ target: BackendUnderTest) throws {
        let backend = try AvailableBackends.fresh(target), batches = Self.batches(6)
        let model = try Self.models[0].makeModel(backend: backend, seed: 5)
        let trainer = ModelTrainer(model: model, optimizer: Adam(backend: backend), objective: Objective(ObjectiveSpec()),
            learningRate: LearningRateSchedule(kind: .alemi, learningRate: 1e-3, totalSteps: batches.count), seed: 9,
            planning: .replayed)
        for batch in batches.prefix(3) { _ = try trainer.train(batch) }
        let made = try #require(Self.buffersMade(backend), "\(target) counts its buffers")
        for batch in batches.dropFirst(3) { _ = try trainer.train(batch) }
        #expect(trainer.replayedSteps == 3)
        #expect(Self.buffersMade(backend) == made, "buffers made by 3 replayed steps")
    }

    /// A PixelCNN step with its gated resnets recomputed records and replays the recomputation.
    @Test(arguments: AvailableBackends.all)
    func recomputedActivationsReplay(_ target: BackendUnderTest) throws {
        let spec = Self.models[2], batches = Self.batches(5)
        let eager = try Self.run(spec, on: target.backend, batches, planning: .eager, activations: .recomputed)
        let replayed = try Self.run(spec, on: target.backend, batches, planning: .replayed, activations: .recomputed)
        #expect(replayed.replayed == 2)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// β annealed over the first 4 steps: nothing is recorded while β moves from one step to
    /// the next; steps 4 and 5 (β = 1) are, and 6 to 8 replay them.
    @Test func annealedBetaIsRecordedOnceSettled() throws {
        let backend = AvailableBackends.cpu.backend, spec = Self.models[0], batches = Self.batches(9)
        let annealed = ObjectiveSpec(weight: .annealed(beta: 1, steps: 4))
        let eager = try Self.run(spec, on: backend, batches, planning: .eager, objective: annealed)
        let replayed = try Self.run(spec, on: backend, batches, planning: .replayed, objective: annealed)
        #expect(replayed.replayed == 3)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// A KL warm-up over 2 epochs of 3 steps: β is 0, ½ and then 1 by epoch, and each epoch's
    /// new β drops the plan, which is recorded again (steps 3–4 and 6–7) and replayed (5, 8, 9).
    @Test func warmUpEpochsAreRecordedAgain() throws {
        let backend = AvailableBackends.cpu.backend, spec = Self.models[0], batches = Self.batches(10)
        let warmUp = ObjectiveSpec(warmUp: KLWarmUp(epochs: 2))
        let eager = try Self.run(spec, on: backend, batches, planning: .eager, objective: warmUp, stepsPerEpoch: 3)
        let replayed = try Self.run(spec, on: backend, batches, planning: .replayed, objective: warmUp, stepsPerEpoch: 3)
        #expect(replayed.replayed == 3)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// A target rate's multiplier moves after every step: its steps run eagerly once two takes
    /// have shown it, with the same numbers.
    @Test func targetRateStepsRunEagerly() throws {
        let backend = AvailableBackends.cpu.backend, spec = Self.models[0], batches = Self.batches(5)
        let target = ObjectiveSpec(weight: .targetRate(TargetRate(rate: 2)))
        let eager = try Self.run(spec, on: backend, batches, planning: .eager, objective: target)
        let replayed = try Self.run(spec, on: backend, batches, planning: .replayed, objective: target)
        #expect(replayed.replayed == 0)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// Gradient normalisation (its norms and constant are recorded with the update) replays too.
    @Test(arguments: AvailableBackends.all)
    func normalizedGradientsReplay(_ target: BackendUnderTest) throws {
        let spec = Self.models[0], batches = Self.batches(5)
        let eager = try Self.run(spec, on: target.backend, batches, planning: .eager, normalizeGradients: true)
        let replayed = try Self.run(spec, on: target.backend, batches, planning: .replayed, normalizeGradients: true)
        #expect(replayed.replayed == 2)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// Echo noise draws its permutations on the host each step: its steps run eagerly.
    @Test func echoStepsRunEagerly() throws {
        let backend = AvailableBackends.cpu.backend, spec = ModelSpec.echo(EchoSpec(latentDimension: 2, terms: 3))
        let batches = Self.batches(4)
        let eager = try Self.run(spec, on: backend, batches, planning: .eager)
        let replayed = try Self.run(spec, on: backend, batches, planning: .replayed)
        #expect(replayed.replayed == 0)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// A short last batch runs eagerly beside the plan of the full batches, which replays on.
    @Test func oddBatchShapesRunEagerly() throws {
        let backend = AvailableBackends.cpu.backend, spec = Self.models[0]
        let full = Self.batches(6), short = Self.batches(2, size: 2)
        let batches = Array(full[0..<4]) + [short[0]] + Array(full[4...]) + [short[1]]
        let eager = try Self.run(spec, on: backend, batches, planning: .eager)
        let replayed = try Self.run(spec, on: backend, batches, planning: .replayed)
        #expect(replayed.replayed == 3)
        #expect(replayed.means == eager.means && replayed.parameters == eager.parameters)
    }

    /// A replayed step's reads: the values land in host memory of the buffer's count; any other
    /// count is an error that names both.
    @Test(arguments: AvailableBackends.all)
    func downloadIntoHostMemory(_ target: BackendUnderTest) throws {
        let backend = target.backend
        let buffer = try backend.makeBuffer([1, -2, 3.5])
        var values = [Float](repeating: 0, count: 3)
        try values.withUnsafeMutableBufferPointer { try backend.download(buffer, into: $0) }
        #expect(values == [1, -2, 3.5])
        var short = [Float](repeating: 0, count: 2)
        #expect(throws: ComputeError.invalidArgument(op: "download", reason: "2 host values for a buffer of 3")) {
            try short.withUnsafeMutableBufferPointer { try backend.download(buffer, into: $0) }
        }
        var none: [Float] = []
        try none.withUnsafeMutableBufferPointer { try backend.download(try backend.makeBuffer(count: 0), into: $0) }
    }

    /// The recorder forwards every op of the backend it wraps (an op added to ``Backend`` and
    /// not to ``StepRecorder`` would throw "unsupported" in the first recorded step): every
    /// parity case passes through it, and each op is written down.
    @Test func recorderForwardsEveryOp() {
        let recorder = StepRecorder(wrapping: AvailableBackends.cpu.backend)
        for parityCase in ParityCase.all {
            let result = ParityRunner.run(parityCase, on: recorder)
            #expect(result.status == .pass, "\(parityCase.name): \(result.detail ?? "")")
        }
        let recorded = Set(recorder.calls.map { String($0.signature.prefix { $0.isLetter || $0.isNumber }) })
        let missing = Op.allCases.filter { !recorded.contains($0.rawValue) }
        #expect(missing.isEmpty, "ops not recorded: \(missing.map(\.rawValue))")
    }
}
