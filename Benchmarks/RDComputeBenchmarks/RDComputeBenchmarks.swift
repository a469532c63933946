import Foundation
import Benchmark
import RDBackends
import RDCompute
import RDLab

/// package-benchmark suite of the compute kernels and the training step: wall time, throughput
/// and allocations per call, so a regression shows in `swift package benchmark`. `rdlab bench`
/// reports GFLOP/s.
/// The CPU backend is measured, and beside it the backend `RDLAB_BENCH_BACKEND` names
/// (`opencl:pocl`, `opencl:nvidia`), from ``BackendRegistry/standard()``.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 200)

    let registry = BackendRegistry.standard()
    let selectors = [BackendRegistry.fallbackName] + [ProcessInfo.processInfo.environment["RDLAB_BENCH_BACKEND"]].compactMap { $0 }
    let backends: [any Backend] = selectors.compactMap { selector in
        guard let request = try? BackendRequest(parsing: selector, validNames: registry.names) else { return nil }
        return try? registry.select(request, strict: true, logger: Logger(label: "rdlab.benchmarks")).backend
    }

    for backend in backends {
        let tag = backend.device.selector
        for (name, m, n, k) in [("1024x1024x1024", 1024, 1024, 1024), ("im2col 78400x32x800", 78400, 32, 800)] {
            Benchmark("gemm \(name) [\(tag)]") { benchmark in
                let a = try backend.makeBuffer(count: m * k), b = try backend.makeBuffer(count: k * n)
                let c = try backend.makeBuffer(count: m * n)
                try backend.randomNormal(a, seed: 1, stream: 1, offset: 0)
                try backend.randomNormal(b, seed: 1, stream: 2, offset: 0)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    try backend.gemm(GemmDescriptor(m: m, n: n, k: k), a: a, b: b, c: c)
                    try backend.synchronize()
                }
            }
        }
        let g = Conv2DGeometry(batch: 100, height: 28, width: 28, inChannels: 32, outChannels: 32, kernel: 5, stride: 1,
            padding: .same)
        Benchmark("conv2d forward 100x28x28x32 5x5 [\(tag)]") { benchmark in
            let input = try backend.makeBuffer(count: g.inputCount), filter = try backend.makeBuffer(count: g.filterCount)
            let output = try backend.makeBuffer(count: g.outputCount)
            try backend.randomNormal(input, seed: 1, stream: 3, offset: 0)
            try backend.randomNormal(filter, seed: 1, stream: 4, offset: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try backend.conv2dForward(g, input: input, filter: filter, output: output)
                try backend.synchronize()
            }
        }
        let echo = EchoShape(batch: 100, dimensions: 32, terms: 99)
        Benchmark("echo forward+backward B=100 d=99 D=32 [\(tag)]") { benchmark in
            let f = try backend.makeBuffer(count: echo.count), logScale = try backend.makeBuffer(count: echo.count)
            let gradZ = try backend.makeBuffer(count: echo.count)
            try backend.randomNormal(f, seed: 1, stream: 5, offset: 0)
            try backend.fill(logScale, with: -0.2)
            try backend.randomNormal(gradZ, seed: 1, stream: 6, offset: 0)
            let table = try EchoIndexTable.random(batch: 100, terms: 99, sampling: .withoutReplacement, seed: 1, stream: 0)
            let indices = try backend.makeIndexBuffer(table.words)
            let noise = try backend.makeBuffer(count: echo.count), z = try backend.makeBuffer(count: echo.count)
            let gradF = try backend.makeBuffer(count: echo.count), gradLogScale = try backend.makeBuffer(count: echo.count)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try backend.echoForward(echo, f: f, logScale: logScale, indices: indices, noise: noise, z: z)
                try backend.echoBackward(echo, f: f, logScale: logScale, indices: indices, noise: noise, gradZ: gradZ,
                    gradF: gradF, gradLogScale: gradLogScale)
                try backend.synchronize()
            }
        }
        let hidden = try! MaskedDenseShape.madeHiddenDegrees(units: 640, dimensions: 64)
        let made = try! MaskedDenseShape(batch: 100, inputDegrees: hidden, outputDegrees: hidden)
        Benchmark("masked dense forward 100x640x640 (MADE) [\(tag)]") { benchmark in
            let x = try backend.makeBuffer(count: 100 * 640), w = try backend.makeBuffer(count: 640 * 640)
            let bias = try backend.makeBuffer(count: 640), y = try backend.makeBuffer(count: 100 * 640)
            try backend.randomNormal(x, seed: 1, stream: 7, offset: 0)
            try backend.randomNormal(w, seed: 1, stream: 8, offset: 0)
            try backend.fill(bias, with: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try backend.maskedDenseForward(made, x: x, weight: w, bias: bias, output: y)
                try backend.synchronize()
            }
        }
            let pixelCNN = try! MaskedConv2DShape.pixelCNN(.b, batch: 100, height: 28, width: 28, inChannels: 64, outChannels: 64,
            kernel: 3)
        Benchmark("masked conv forward 100x28x28x64 3x3 type B (PixelCNN) [\(tag)]") { benchmark in
            let input = try backend.makeBuffer(count: pixelCNN.geometry.inputCount)
            let filter = try backend.makeBuffer(count: pixelCNN.filterCount)
            let output = try backend.makeBuffer(count: pixelCNN.geometry.outputCount)
            try backend.randomNormal(input, seed: 1, stream: 9, offset: 0)
            try backend.randomNormal(filter, seed: 1, stream: 10, offset: 0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try backend.maskedConv2dForward(pixelCNN, input: input, filter: filter, output: output)
                try backend.synchronize()
            }
        }
        Benchmark("adam step 1M parameters [\(tag)]") { benchmark in
            let count = 1 << 20
            let p = try backend.makeBuffer(count: count), g = try backend.makeBuffer(count: count)
            let m = try backend.makeBuffer(count: count), v = try backend.makeBuffer(count: count)
            for (buffer, stream) in [(p, UInt64(11)), (g, 12)] { try backend.randomNormal(buffer, seed: 1, stream: stream, offset: 0) }
            try backend.fill(m, with: 0)
            try backend.fill(v, with: 0)
            benchmark.startMeasurement()
            for step in benchmark.scaledIterations {
                try backend.adamStep(AdamParameters(), step: step + 1, parameter: p, gradient: g, firstMoment: m, secondMoment: v)
                try backend.synchronize()
            }
        }
        Benchmark("vae train step batch 100 (reference conv VAE) [\(tag)]",
            configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
            let model = try ConvAutoencoder(AlemiSpec(), backend: backend, seed: 1)
            let trainer = ModelTrainer(model: model, optimizer: Adam(backend: backend), objective: Objective(ObjectiveSpec()),
                learningRate: LearningRateSchedule(kind: .constant, learningRate: 3e-4, totalSteps: 1), seed: 1)
            let images = HostBatch(values: (0..<(100 * 784)).map { Float(($0 * 7919) % 3 == 0 ? 1 : 0) }, shape: [100, 28, 28, 1])
            // steady state: a first step, then the two recorded steps of the step plan, which replays from here
            for _ in 0..<3 { _ = try trainer.train(images) }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { _ = try trainer.train(images) }
        }
    }
}
