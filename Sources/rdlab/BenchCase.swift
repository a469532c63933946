import Foundation
import RDCompute
import RDFiles
import RDLab

/// One benchmark: buffers made once per backend, then a call that is timed.
struct BenchCase: Sendable {
    let name: String
    let flops: Double
    /// Bytes a call moves by the case's traffic model (0: compute-bound case, no GB/s).
    var bytes: Double = 0
    /// Allocates inputs on the backend and returns the call to time.
    let prepare: @Sendable (any Backend) throws -> () throws -> Void

    /// Every case: SGEMM 1024³, the VAE's im2col GEMMs, each VAE conv layer's three passes,
    /// memory bandwidth, the two-Gaussian KL (fused and composed), the AR(1)-prior KL, the Echo
    /// op, the MADE layers, the training step with each channel, HIT's two models' steps and
    /// their conv passes, the δ-VAE's step with and without its auxiliary prior.
    static let all: [BenchCase] = gemmCases + convCases + [copyBandwidth] + elementwiseCases + klPairCases + ar1KLCases
        + echoCases
        + maskedCases
        + pixelCNNCases + [trainingStep(.echo(EchoSpec()), " echo channel")] + familySteps + [toyStep] + hierarchicalSteps + hitConvCases
        + deltaSteps

    /// The training step of each of Alemi's twelve families: the reference VAE's settings
    /// (32 latents, ReLU) for the deconvolutional decoder, Alemi's (64 latents, gated units,
    /// inputs in [−1, 1]) with the PixelCNN decoder; `---` is the reference β-VAE step. `-+v`
    /// also with its gated resnets recomputed in the backward pass (the lean-memory step), and
    /// `---` also eagerly (a graph per step, beside the replayed step plan every other case uses).
    static var familySteps: [BenchCase] {
        DecoderKind.allCases.flatMap { decoder in
            EncoderKind.allCases.flatMap { encoder in
                MarginalKind.allCases.flatMap { marginal in
                    let pixelCNN = decoder == .pixelcnn
                    let spec = AlemiSpec(latentDimension: pixelCNN ? 64 : 32, activation: pixelCNN ? .gated : .relu,
                        symmetricInputs: pixelCNN, encoder: encoder, decoder: decoder, marginal: marginal)
                    let reference = encoder == .gaussian && marginal == .normal && !pixelCNN
                    return [trainingStep(.alemi(spec), " family \(spec.family)", flops: reference ? 36.106e9 : 0)]
                        + (reference ? [trainingStep(.alemi(spec), " family \(spec.family)", planning: .eager)] : [])
                        + (pixelCNN && encoder == .gaussian && marginal == .vamp
                            ? [trainingStep(.alemi(spec), " family \(spec.family)", flops: 0, activations: .recomputed)] : [])
                }
            }
        }
    }

    /// One training step at `batch` (Adam): forward, backward and update. The reference conv
    /// VAE (32 latents, Gaussian channel) is 36.1 GFLOP by the baselines' count (common.py);
    /// the Echo channel adds ~0.002 GFLOP. Other families carry no FLOP count (0).
    static func trainingStep(_ spec: ModelSpec, _ suffix: String, batch: Int = 100, flops: Double = 36.106e9,
        activations: ActivationMemory = .kept, planning: StepPlanning = .replayed) -> BenchCase {
        let memory = activations == .kept ? "" : ", \(activations) activations"
        let execution = planning == .replayed ? "" : ", \(planning)"
        return BenchCase(name: "vae train step batch \(batch)\(suffix) (fwd+bwd+adam\(memory)\(execution))", flops: flops) { backend in
            let trainer = ModelTrainer(model: try spec.makeModel(backend: backend, seed: 1), optimizer: Adam(backend: backend),
                objective: Objective(ObjectiveSpec()),
                learningRate: LearningRateSchedule(kind: .constant, learningRate: 3e-4, totalSteps: 1), seed: 1,
                activations: activations, planning: planning)
            var state: UInt64 = 7
            let images = HostBatch(values: (0..<(batch * 784)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1
                return state >> 62 == 0 ? 1 : 0
            }, shape: [batch, 28, 28, 1])
            return { _ = try trainer.train(images) }
        }
    }

    /// One full-batch step of Alemi's toy model (30 bins × 30 states, 150 parameters) with a
    /// target rate: the unit of `rdlab train --model toy`.
    static var toyStep: BenchCase {
        BenchCase(name: "toy model step (30x30 exact sums, target rate, fwd+bwd+adam)", flops: 0) { backend in
            let trainer = ModelTrainer(model: try ToyModel(ToySpec(), backend: backend, seed: 1), optimizer: Adam(backend: backend),
                objective: Objective(ObjectiveSpec(weight: .targetRate(TargetRate(rate: 0.5)))),
                learningRate: LearningRateSchedule(kind: .constant, learningRate: 0.05, totalSteps: 1), seed: 1)
            let batch = ToyDistribution().trainingBatch(epoch: 0, index: 0)
            return { _ = try trainer.train(batch) }
        }
    }

    /// (name, M, K, N) as in the framework baselines (`shared/baselines/common.py`).
    static let gemmShapes: [(String, Int, Int, Int)] = [
        ("square 1024^3", 1024, 1024, 1024),
        ("conv28 32->32 5x5 fwd (im2col)", 78400, 800, 32),
        ("conv28 32->32 5x5 dW (cols^T @ dY)", 800, 78400, 32),
        ("enc2 s2 14x14 32->32 fwd", 19600, 800, 32),
        ("enc3 14x14 32->64 fwd", 19600, 800, 64),
        ("enc4/dec2 7x7 64->64 fwd", 4900, 1600, 64),
        ("dec4 14x14 64->32 fwd", 19600, 1600, 32),
        ("dec6 28x28 32->32 4x4 fwd", 78400, 512, 32),
    ]

    static var gemmCases: [BenchCase] {
        gemmShapes.map { name, m, k, n in
            // The weight-gradient case multiplies colsᵀ (stored K×M) by dY.
            let transposeA = name.contains("dW")
            let d = GemmDescriptor(m: m, n: n, k: k, transposeA: transposeA)
            return BenchCase(name: "gemm \(name)", flops: d.flops) { backend in
                let a = try random(backend, m * k, stream: 1)
                let b = try random(backend, k * n, stream: 2)
                let c = try backend.makeBuffer(count: m * n)
                return { try backend.gemm(d, a: a, b: b, c: c) }
            }
        }
    }

    /// The reference VAE's layers at batch 100 (seed-spec §6); transposed convs as the
    /// geometry whose backward-data pass they are.
    static let vaeLayers: [(String, Conv2DGeometry, transposed: Bool)] = {
        let b = 100
        func conv(_ name: String, _ hw: Int, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ p: Conv2DGeometry.Padding)
            -> (String, Conv2DGeometry, transposed: Bool) {
            (name, Conv2DGeometry(batch: b, height: hw, width: hw, inChannels: cin, outChannels: cout, kernel: k,
                stride: s, padding: p), false)
        }
        func convT(_ name: String, _ hw: Int, _ cin: Int, _ cout: Int, _ k: Int, _ s: Int, _ p: Conv2DGeometry.Padding)
            -> (String, Conv2DGeometry, transposed: Bool) {
            (name, Conv2DGeometry.transposed(batch: b, inHeight: hw, inWidth: hw, inChannels: cin, outChannels: cout,
                kernel: k, stride: s, padding: p), true)
        }
        return [
            conv("enc1 28x28 1->32 5x5", 28, 1, 32, 5, 1, .same),
            conv("enc2 28x28 32->32 5x5 s2", 28, 32, 32, 5, 2, .same),
            conv("enc3 14x14 32->64 5x5", 14, 32, 64, 5, 1, .same),
            conv("enc4 14x14 64->64 5x5 s2", 14, 64, 64, 5, 2, .same),
            conv("enc5 7x7 64->256 7x7 valid", 7, 64, 256, 7, 1, .valid),
            convT("dec1 convT 1x1 32->64 7x7 valid", 1, 32, 64, 7, 1, .valid),
            convT("dec2 convT 7x7 64->64 5x5", 7, 64, 64, 5, 1, .same),
            convT("dec3 convT 7x7 64->64 5x5 s2", 7, 64, 64, 5, 2, .same),
            convT("dec4 convT 14x14 64->32 5x5", 14, 64, 32, 5, 1, .same),
            convT("dec5 convT 14x14 32->32 5x5 s2", 14, 32, 32, 5, 2, .same),
            convT("dec6 convT 28x28 32->32 4x4", 28, 32, 32, 4, 1, .same),
            conv("out 28x28 32->1 5x5", 28, 32, 1, 5, 1, .same),
        ]
    }()

    static var convCases: [BenchCase] {
        vaeLayers.flatMap { name, g, transposed in
            // For a transposed conv the forward pass is backward-data and its input gradient is the forward.
            let passes: [(String, ConvPass)] = transposed
                ? [("fwd", .backwardData), ("bwd-data", .forward), ("bwd-filter", .backwardFilter)]
                : [("fwd", .forward), ("bwd-data", .backwardData), ("bwd-filter", .backwardFilter)]
            return passes.map { pass, kind in convCase("conv \(name) \(pass)", g, kind) }
        }
    }

    enum ConvPass: Sendable { case forward, backwardData, backwardFilter }

    /// One pass of the convolution `g` on random buffers.
    static func convCase(_ name: String, _ g: Conv2DGeometry, _ pass: ConvPass) -> BenchCase {
        BenchCase(name: name, flops: g.flops) { backend in
            let input = try random(backend, g.inputCount, stream: 1)
            let filter = try random(backend, g.filterCount, stream: 2)
            let output = try random(backend, g.outputCount, stream: 3)
            switch pass {
            case .forward: return { try backend.conv2dForward(g, input: input, filter: filter, output: output) }
            case .backwardData: return { try backend.conv2dBackwardData(g, gradOutput: output, filter: filter, gradInput: input) }
            case .backwardFilter: return { try backend.conv2dBackwardFilter(g, input: input, gradOutput: output, gradFilter: filter) }
            }
        }
    }

    static func random(_ backend: any Backend, _ count: Int, stream: UInt64) throws -> DeviceBuffer {
        let buffer = try backend.makeBuffer(count: count)
        try backend.randomNormal(buffer, seed: 1, stream: stream, offset: 0)
        return buffer
    }

    /// Warm-up, then timed calls until `budget` seconds (3 calls at least, 10 000 at most):
    /// device time of the call's kernels where the backend has a device timer, else wall time
    /// from the call to the end of a device synchronisation.
    func measure(on backend: any Backend, budget: Double) throws -> BenchResult {
        let timer = backend as? any DeviceTimedBackend
        var deviceTimed = timer != nil
        let call = try prepare(backend)
        // three: a training step's first step, then the two its step plan is recorded from
        for _ in 0..<3 {
            try call()
            try backend.synchronize()
        }
        var samples: [Double] = []
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(budget * 1000))
        while samples.count < 3 || (clock.now < deadline && samples.count < 10_000) {
            let start = clock.now
            try timer?.startDeviceTimer()
            try call()
            let device = try timer?.stopDeviceTimer()
            try backend.synchronize()
            let elapsed = clock.now - start
            if device == nil { deviceTimed = false }
            samples.append(device ?? Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) * 1e-12)
        }
        samples.sort()
        func quantile(_ q: Double) -> Double { samples[min(samples.count - 1, Int(q * Double(samples.count - 1) + 0.5))] }
        let median = quantile(0.5)
        return BenchResult(
            name: name, backend: backend.device.selector, device: backend.device.name, driver: backend.device.driverVersion,
            runs: samples.count, medianMicroseconds: median, p10Microseconds: quantile(0.1), p90Microseconds: quantile(0.9),
            flops: flops, gflops: flops / median / 1e3, bytes: bytes, gbPerSecond: bytes / median / 1e3,
            timing: deviceTimed ? "device" : "wall")
    }
}

/// One measured row; `timing` says how it was measured: `device` (the kernels' summed
/// execution time from OpenCL profiling events) or `wall` (host clock around call + sync).
struct BenchResult: Codable {
    var name: String
    var backend: String
    var device: String
    var driver: String
    var runs: Int
    var medianMicroseconds: Double
    var p10Microseconds: Double
    var p90Microseconds: Double
    var flops: Double
    var gflops: Double
    var bytes: Double
    var gbPerSecond: Double
    var timing: String
    /// The first `--backend`'s median over this one's (1 for the first backend).
    var ratioToFirstBackend: Double = 1
    /// The `--compare` file's median for this case and backend, if it has one.
    var baselineMedianMicroseconds: Double?

    /// `{date, rdlab, commit, peak_gflops, results}`, written via a temporary file and a rename.
    static func write(_ results: [BenchResult], to url: URL, peak: Double?) throws {
        struct Document: Encodable {
            let date: String
            let rdlab: String
            let commit: String
            let peakGflops: Double?
            let results: [BenchResult]
        }
        let encoder = JSONEncoder.rdlab(pretty: true)
        let document = Document(date: ISO8601DateFormatter().string(from: Date()), rdlab: RDLab.version, commit: currentCommit(),
            peakGflops: peak, results: results)
        let data = try encoder.encode(document)
        try AtomicFile.write(data, to: url)
    }
}
