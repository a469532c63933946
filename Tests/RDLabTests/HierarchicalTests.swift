import Foundation
import RDCompute
import RDData
import RDLab
import RDTestSupport
import Testing

/// PyTorch-semantics layers against a naive Double reference, on every backend.
@Suite("PyTorch layers")
struct PyTorchLayerTests {
    /// `nn.Conv2d` in NHWC/HWIO, Double: `y[b,oy,ox,o] = bias[o] + Σ x[b, oy·s − p + ky, ox·s − p + kx, i]·w[ky,kx,i,o]`.
    static func conv(_ x: [Float], _ shape: [Int], _ w: [Float], _ bias: [Float], out: Int, k: Int, s: Int, p: Int) -> ([Double], [Int]) {
        let (n, h, wd, c) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1
        var y = [Double](repeating: 0, count: n * oh * ow * out)
        for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<out {
            var sum = Double(bias[o])
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s - p + ky, ix = ox * s - p + kx
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                for i in 0..<c { sum += Double(x[((b * h + iy) * wd + ix) * c + i]) * Double(w[((ky * k + kx) * c + i) * out + o]) }
            } }
            y[((b * oh + oy) * ow + ox) * out + o] = sum
        } } } }
        return (y, [n, oh, ow, out])
    }

    /// `nn.ConvTranspose2d` in NHWC with rdlab's kernel `[k, k, out, in]`, Double: every input
    /// pixel adds `x·w` at `y = iy·s − p + ky`; the output has `(in − 1)s − 2p + k + q` rows.
    static func convTranspose(_ x: [Float], _ shape: [Int], _ w: [Float], _ bias: [Float], out: Int, k: Int, s: Int, p: Int,
        q: Int) -> ([Double], [Int]) {
        let (n, h, wd, c) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h - 1) * s - 2 * p + k + q, ow = (wd - 1) * s - 2 * p + k + q
        var y = [Double](repeating: 0, count: n * oh * ow * out)
        for b in 0..<n { for yy in 0..<oh { for xx in 0..<ow { for o in 0..<out { y[((b * oh + yy) * ow + xx) * out + o] = Double(bias[o]) } } } }
        for b in 0..<n { for iy in 0..<h { for ix in 0..<wd { for ky in 0..<k { for kx in 0..<k {
            let yy = iy * s - p + ky, xx = ix * s - p + kx
            guard yy >= 0, yy < oh, xx >= 0, xx < ow else { continue }
            for o in 0..<out { for i in 0..<c {
                y[((b * oh + yy) * ow + xx) * out + o] += Double(x[((b * h + iy) * wd + ix) * c + i]) * Double(w[((ky * k + kx) * out + o) * c + i])
            } }
        } } } } }
        return (y, [n, oh, ow, out])
    }

    static func values(_ p: Parameter, _ b: any Backend) throws -> [Float] { try b.download(p.tensor.buffer) }

    /// HIT's shapes (28 → 14 → 7 → 4 and back) and odd ones: stride 3, padding 2, output padding.
    @Test(arguments: AvailableBackends.all)
    func convolutionsMatchPyTorch(_ target: BackendUnderTest) throws {
        let b = target.backend
        #expect(b.device.backend == target.family)
        let cases: [(h: Int, c: Int, out: Int, k: Int, s: Int, p: Int)] = [(28, 1, 3, 4, 2, 1), (7, 2, 3, 4, 1, 0), (4, 3, 2, 3, 1, 1),
            (9, 2, 2, 5, 3, 2)]
        for (index, t) in cases.enumerated() {
            var data = TestData(seed: UInt64(10 + index))
            let x = data.values(2 * t.h * t.h * t.c)
            let layer = try PyTorchConv2D("c", inChannels: t.c, outChannels: t.out, kernel: t.k, stride: t.s, padding: t.p, backend: b,
                seed: 3)
            let g = Graph(backend: b)
            let y = try layer(try g.constant(x, shape: [2, t.h, t.h, t.c]), in: g)
            let (reference, shape) = Self.conv(x, [2, t.h, t.h, t.c], try Self.values(layer.parameters[0], b),
                try Self.values(layer.parameters[1], b), out: t.out, k: t.k, s: t.s, p: t.p)
            #expect(y.shape == shape, "conv \(t): shape \(y.shape) vs \(shape)")
            #expect(nmse(try g.values(y), reference) < 1e-10, "conv \(t) on \(b.displayName)")
        }
        let transposed: [(h: Int, c: Int, out: Int, k: Int, s: Int, p: Int, q: Int)] = [(4, 3, 2, 4, 1, 0, 0), (7, 2, 3, 4, 2, 1, 0),
            (14, 2, 1, 4, 2, 1, 0), (5, 2, 2, 3, 2, 1, 1), (4, 1, 2, 3, 3, 0, 2), (3, 2, 2, 5, 2, 2, 1)]
        for (index, t) in transposed.enumerated() {
            var data = TestData(seed: UInt64(20 + index))
            let x = data.values(2 * t.h * t.h * t.c)
            let layer = try PyTorchConvTranspose2D("t", inChannels: t.c, outChannels: t.out, kernel: t.k, stride: t.s, padding: t.p,
                outputPadding: t.q, backend: b, seed: 3)
            let g = Graph(backend: b)
            let y = try layer(try g.constant(x, shape: [2, t.h, t.h, t.c]), in: g)
            let (reference, shape) = Self.convTranspose(x, [2, t.h, t.h, t.c], try Self.values(layer.parameters[0], b),
                try Self.values(layer.parameters[1], b), out: t.out, k: t.k, s: t.s, p: t.p, q: t.q)
            #expect(y.shape == shape, "transposed \(t): shape \(y.shape) vs \(shape)")
            #expect(nmse(try g.values(y), reference) < 1e-10, "transposed \(t) on \(b.displayName)")
        }
    }

    /// A two-input convolution is one convolution of the channel concatenation.
    @Test func twoInputConvolutionIsConcatenation() throws {
        let b = AvailableBackends.cpu.backend
        var data = TestData(seed: 4)
        let (u, v) = (data.values(2 * 7 * 7 * 2), data.values(2 * 7 * 7 * 3))
        let layer = try PyTorchConv2D("j", inChannels: [2, 3], outChannels: 2, kernel: 4, backend: b, seed: 1)
        let g = Graph(backend: b)
        let y = try g.values(try layer(try g.constant(u, shape: [2, 7, 7, 2]), try g.constant(v, shape: [2, 7, 7, 3]), in: g))
        let (wu, wv) = (try Self.values(layer.parameters[0], b), try Self.values(layer.parameters[1], b))
        // concatenate inputs and kernels along the channel axis
        var x: [Float] = [], w: [Float] = []
        for p in 0..<(2 * 49) {
            x += u[(p * 2)..<(p * 2 + 2)]
            x += v[(p * 3)..<(p * 3 + 3)]
        }
        for tap in 0..<16 {
            w += wu[(tap * 4)..<(tap * 4 + 4)]
            w += wv[(tap * 6)..<(tap * 6 + 6)]
        }
        let (reference, _) = Self.conv(x, [2, 7, 7, 5], w, try Self.values(layer.parameters[2], b), out: 2, k: 4, s: 1, p: 0)
        #expect(nmse(y, reference) < 1e-10)
        #expect(layer.parameters.map(\.name) == ["j.weight1", "j.weight2", "j.bias"])
    }

    /// PyTorch's default initialisation: U(±1/√fanIn) for weights and biases, fanIn = in·k² for a
    /// convolution (all inputs), out·k² for a transposed one, `in` for a linear layer.
    @Test func defaultInitialisation() throws {
        let b = AvailableBackends.cpu.backend
        let layers: [(ParameterContainer, Int)] = [
            (try PyTorchConv2D("c", inChannels: [16, 16], outChannels: 16, kernel: 4, backend: b, seed: 1), 512),
            (try PyTorchConvTranspose2D("t", inChannels: 16, outChannels: 1, kernel: 4, backend: b, seed: 1), 16),
            (try PyTorchLinear("l", inputs: 128, outputs: 256, backend: b, seed: 1), 128),
        ]
        for (layer, fanIn) in layers {
            let bound = 1 / Double(fanIn).squareRoot()
            let weights = try layer.parameters.filter { $0.name.contains("weight") }.flatMap { try Self.values($0, b) }
            #expect(weights.allSatisfy { abs(Double($0)) <= bound }, "weights beyond ±\(bound)")
            let rms = (weights.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(weights.count)).squareRoot()
            #expect(abs(rms - bound / 3.0.squareRoot()) < 0.05 * bound, "rms \(rms) vs \(bound / 3.0.squareRoot())")
            let bias = try Self.values(layer.parameters.last!, b)
            #expect(bias.allSatisfy { abs(Double($0)) <= bound } && bias.contains { $0 != 0 })
        }
        #expect(throws: ComputeError.self) { try PyTorchConvTranspose2D("t", inChannels: 1, outChannels: 1, kernel: 3, stride: 2, outputPadding: 2, backend: b, seed: 1) }
    }
}

/// HIT's two-layer VAE (seed-spec §8): sizes, the LVAE merge, gradients, backends, learning.
@Suite("Hierarchical VAE", .serialized)
struct HierarchicalTests {
    static let ghvae = HierarchicalSpec(inference: .ghvae)
    static let lvae = HierarchicalSpec(inference: .lvae)

    static func count(_ model: any RateDistortionModel) -> Int { model.parameters.reduce(0) { $0 + $1.tensor.count } }

    /// HIT's MNIST models at c = 16, z₂ = 20 (seed-spec §8.2–8.3).
    @Test func parameterCounts() throws {
        let b = AvailableBackends.cpu.backend
        #expect(Self.count(try HierarchicalVAE(Self.ghvae, backend: b, seed: 0)) == 122_713)
        #expect(Self.count(try HierarchicalVAE(Self.lvae, backend: b, seed: 0)) == 104_745)
        let names = try HierarchicalVAE(Self.ghvae, backend: b, seed: 0).parameters.map(\.name)
        #expect(Set(names).count == names.count, "parameter names repeat")
    }

    /// Every stage's shape: q(z₂|x) [B, 20], p(z₁|z₂) and q(z₁|z₂, x) [B, 4, 4, 16], logits
    /// [B, 28, 28, 1]; rates per example for layers z1, z2.
    @Test(arguments: [ghvae, lvae])
    func shapes(_ spec: HierarchicalSpec) throws {
        let b = AvailableBackends.cpu.backend
        let model = try HierarchicalVAE(spec, backend: b, seed: 1)
        let g = Graph(backend: b)
        let x = try g.constant(VAETests.images(3, seed: 1), shape: [3, 28, 28, 1])
        let q = try model.posteriors(x, in: g, noise: (1, 2))
        #expect(q.top.mean.shape == [3, 20] && q.top.scale.shape == [3, 20] && q.z2.shape == [3, 20])
        #expect(q.prior.mean.shape == [3, 4, 4, 16] && q.prior.scale.shape == [3, 4, 4, 16])
        #expect(q.bottom.mean.shape == [3, 4, 4, 16] && q.bottom.scale.shape == [3, 4, 4, 16])
        #expect(try model.meanReconstruction(x, in: g).shape == [3, 28, 28, 1])
        #expect(try model.samples(count: 2, in: g, seed: 1, stream: 3).shape == [2, 28, 28, 1])
        let out = try model(x, in: g, seed: 1, noiseStream: 2)
        #expect(out.rates.map(\.name) == ["z1", "z2"] && model.latentLayers == ["z1", "z2"])
        #expect(out.distortion.shape == [3] && out.rates.allSatisfy { $0.rate.shape == [3] } && out.latent.shape == [3, 256])
        // per-dimension rates sum to the layer's rate
        for layer in out.rates {
            let compute = try #require(layer.perDimension)
            let total = try g.values(layer.rate), perDimension = try g.values(try compute())
            let d = perDimension.count / 3
            for r in 0..<3 {
                let sum = perDimension[(r * d)..<((r + 1) * d)].reduce(0.0) { $0 + Double($1) }
                #expect(abs(sum - Double(total[r])) < 1e-3 * max(1, abs(sum)), "\(layer.name)[\(r)]: \(sum) vs \(total[r])")
            }
        }
        let wrongSize = try g.constant([Float](repeating: 0, count: 2 * 32 * 32), shape: [2, 32, 32, 1])
        #expect(throws: ComputeError.self) { _ = try model(wrongSize, in: g, seed: 1, noiseStream: 2) }
    }

    /// log w of the IWAE bound averages to the ELBO: over 1024 draws for one image,
    /// mean(log w) = −(D + R₁ + R₂) within 4 standard errors of the per-draw difference
    /// (log q − log p minus its expectation, the analytic KL).
    @Test(arguments: [ghvae, lvae])
    func importanceWeightsAverageToTheELBO(_ spec: HierarchicalSpec) throws {
        let b = AvailableBackends.cpu.backend
        let model = try HierarchicalVAE(spec, backend: b, seed: 6)
        let image = VAETests.images(1, seed: 9)
        let g = Graph(backend: b)
        let n = 1024
        let out = try model(try g.constant(Array((0..<n).map { _ in image }.joined()), shape: [n, 28, 28, 1]), in: g, seed: 6,
            noiseStream: 4)
        let logW = try g.values(try out.importanceWeights.logWeights())
        let negativeELBO = try g.values(try g.add(out.distortion, try out.totalRate(in: g)))
        let differences = zip(logW, negativeELBO).map { Double($0) + Double($1) }
        let mean = differences.reduce(0, +) / Double(n)
        let standardError = (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1) / Double(n)).squareRoot()
        #expect(abs(mean) < 4 * standardError + 1e-3, "mean log w − ELBO = \(mean), standard error \(standardError)")
        print("IWAE (HIT \(spec.inference.rawValue)): mean log w − ELBO = \(mean) ± \(standardError) over \(n) draws")
    }

    /// The LVAE's precision-weighted merge against the formula in Double.
    @Test(arguments: AvailableBackends.all)
    func ladderMerge(_ target: BackendUnderTest) throws {
        let b = target.backend
        var data = TestData(seed: 8)
        let (mu, variance, muP, sigmaP) = (data.values(24, in: -2...2), data.values(24, in: 0.01...3), data.values(24, in: -2...2),
            data.values(24, in: 0.05...2))
        let g = Graph(backend: b)
        let prior = DiagonalGaussian(mean: try g.constant(muP, shape: [2, 12]), scale: try g.constant(sigmaP, shape: [2, 12]))
        let merged = try prior.merged(estimate: try g.constant(mu, shape: [2, 12]), variance: try g.constant(variance, shape: [2, 12]), in: g)
        let (mean, scale) = (try g.values(merged.mean), try g.values(merged.scale))
        for i in 0..<24 {
            let (v, vp) = (Double(variance[i]), Double(sigmaP[i]) * Double(sigmaP[i]))
            let expectedMean = (Double(mu[i]) * vp + Double(muP[i]) * v) / (v + vp)
            let expectedScale = (v * vp / (v + vp)).squareRoot()
            #expect(abs(Double(mean[i]) - expectedMean) < 1e-5 * max(1, abs(expectedMean)), "mean[\(i)]")
            #expect(abs(Double(scale[i]) - expectedScale) < 1e-5 * max(1, expectedScale), "scale[\(i)]")
        }
    }

    /// Finite differences of the whole loss mean(D + β₁R₁ + β₂R₂) on a tiny batch with fixed
    /// noise, for entries of parameters on every path (both inference variants).
    @Test(arguments: [ghvae, lvae])
    func fullLossGradients(_ spec: HierarchicalSpec) throws {
        let b = AvailableBackends.cpu.backend
        let model = try HierarchicalVAE(HierarchicalSpec(inference: spec.inference, channels: 4, topDimension: 3), backend: b, seed: 5)
        let x = VAETests.images(2, seed: 4)
        let chosen: Set<String> = spec.inference == .ghvae
            ? ["qz.conv1.weight", "qz.scale.bias", "qy.x.conv2.weight", "qy.z.deconv.weight", "qy.zx.conv.weight2", "qy.scale.weight",
                "py.hidden.weight", "py.scale.bias", "px.deconv1.weight", "px.deconv3.bias"]
            : ["qz.conv2.weight", "qz.mean.weight", "qy.d.conv.weight", "qy.variance.bias", "qy.mean.weight", "py.mean.weight",
                "py.scale.weight", "px.deconv2.weight"]
        let parameters = model.parameters.filter { chosen.contains($0.name) }
        #expect(parameters.count == chosen.count)
        try GraphGradientTests.check(b, parameters, samples: 3, h: 1e-2, tolerance: 3e-2) { g in
            let out = try model(try g.constant(x, shape: [2, 28, 28, 1]), in: g, seed: 5, noiseStream: 1)
            let rates = try g.add(try g.scale(out.rates[0].rate, by: 0.7), try g.scale(out.rates[1].rate, by: 2))
            return try g.mean(try g.add(out.distortion, rates))
        }
    }

    static let mnist: (train: Dataset, test: Dataset)? = {
        let locator = DataLocator(dataDirectory: TestDatasets.fixtures, environment: ["RDLAB_OFFLINE": "1"])
        guard let train = try? locator.load("mnist", split: "train"), let test = try? locator.load("mnist", split: "test") else { return nil }
        return (train, test)
    }()

    /// 20 steps with one seed: CPU twice bit-identical, CPU and each OpenCL device within 1e-4.
    @Test(arguments: [ghvae, lvae])
    func trajectoriesAgreeAcrossBackends(_ spec: HierarchicalSpec) throws {
        let train = try #require(Self.mnist, "MNIST fixtures not found in Tests/Fixtures/datasets").train
        func losses(_ backend: any Backend) throws -> [Double] {
            let model = try HierarchicalVAE(spec, backend: backend, seed: 11)
            let trainer = ModelTrainer.plain(model, lr: 1e-3, steps: 20, seed: 11)
            return try (0..<20).map { step in
                try trainer.train(train.batch((step * 8)..<(step * 8 + 8), binarization: .threshold, seed: 0, epoch: 0), batch: 8)
                    .negativeELBO
            }
        }
        let cpu = try losses(AvailableBackends.cpu.backend)
        #expect(try losses(AvailableBackends.cpu.backend) == cpu, "two CPU runs with one seed differ")
        for target in AvailableBackends.all where target.family != "cpu" {
            let other = try losses(target.backend)
            let worst = zip(cpu, other).map { abs($0 - $1) / abs($0) }.max()!
            #expect(worst < 1e-4, "\(target.backend.displayName): largest relative difference \(worst)")
            print("trajectory (HIT \(spec.inference.rawValue)): cpu vs \(target.backend.displayName): largest relative loss difference over 20 steps \(worst)")
        }
    }

    /// A short run on MNIST (rounded at 0.5) lowers the held-out −ELBO clearly, and at
    /// β₁ = β₂ = 1 both layers carry information.
    @Test(arguments: [ghvae, lvae])
    func learnsOnMNIST(_ spec: HierarchicalSpec) throws {
        let (train, all) = try #require(Self.mnist, "MNIST fixtures not found in Tests/Fixtures/datasets")
        let test = all.prefix(100)
        let model = try HierarchicalVAE(spec, backend: AvailableBackends.cpu.backend, seed: 2)
        let trainer = ModelTrainer.plain(model, lr: 3e-3, steps: 40, seed: 2)
        func heldOut() throws -> RateDistortion {
            try trainer.evaluate(test.batch(0..<100, binarization: .threshold, seed: 2, epoch: 0), batch: 100, index: 0)
        }
        let before = try heldOut()
        let sampler = BatchSampler(count: train.count, batchSize: 50, seed: 2)
        for epoch in 0..<4 {
            for indices in sampler.batches(epoch: epoch) {
                _ = try trainer.train(train.batch(indices, binarization: .threshold, seed: 2, epoch: epoch), batch: indices.count)
            }
        }
        let after = try heldOut()
        print("learning (HIT \(spec.inference.rawValue)): held-out −ELBO \(before.negativeELBO) → \(after.negativeELBO) nats; R1 \(after.layerRates[0]) R2 \(after.layerRates[1])")
        #expect(after.negativeELBO < before.negativeELBO - 100, "−ELBO \(before.negativeELBO) → \(after.negativeELBO)")
        #expect(after.layerRates[0] > 0.1 && after.layerRates[1] > 0.1, "rates \(after.layerRates)")
        // HIT's probes on the labelled test set (80/20): above chance, and on samples never above the bound
        let labels = try #require(test.labels).map(Int.init)
        let report = try ProbeEvaluator.evaluate(model, batches: 1,
            batch: { _ in HostBatch(values: test.batch(0..<100, binarization: .threshold, seed: 2, epoch: 0), shape: [100, 28, 28, 1]) },
            labels: labels, classes: 10, rates: ["z1": after.layerRates[0], "z2": after.layerRates[1]], seed: 2)
        print("probes (HIT \(spec.inference.rawValue)): PSNR \(report.psnrDecibels ?? .infinity) dB; " + (report.layers + report.sampledLayers).map {
            "\($0.layer) logistic \($0.logisticAccuracy) kNN \($0.nearestNeighbourAccuracy) bound \($0.boundAccuracy) chance \($0.chanceAccuracy)"
        }.joined(separator: "; "))
        #expect((report.psnrDecibels ?? 0) > 5)
        // z₂ carries about 2 nats in both variants (the LVAE's z₁ has collapsed to 0.35 by here)
        let top = report.layers[1]
        #expect(top.layer == "z2" && top.logisticAccuracy > top.chanceAccuracy + 0.1, "\(top)")
        for layer in report.sampledLayers {
            #expect(layer.logisticAccuracy <= layer.boundAccuracy && layer.nearestNeighbourAccuracy <= layer.boundAccuracy, "\(layer)")
        }
    }
}

/// The KL warm-up's factor and per-layer weights (HIT's β₁, β₂).
@Suite("Layer-wise objective")
struct LayerwiseObjectiveTests {
    @Test func warmUpFactor() {
        let warmUp = KLWarmUp(runEpochs: 200)
        #expect(warmUp.epochs == 40)
        #expect(warmUp.factor(epoch: 0) == 0 && warmUp.factor(epoch: 10) == 0.25 && warmUp.factor(epoch: 40) == 1
            && warmUp.factor(epoch: 150) == 1)
        #expect(KLWarmUp(runEpochs: 4).factor(epoch: 0) == 1)
        let objective = Objective(ObjectiveSpec(weight: .constant(beta: 1), layers: ["z1": .constant(beta: 0.5), "z2": .constant(beta: 4)],
            warmUp: KLWarmUp(epochs: 2)), stepsPerEpoch: 10)
        #expect(objective.beta(of: "z1", at: 0) == 0 && objective.beta(of: "z2", at: 9) == 0)
        #expect(objective.beta(of: "z1", at: 10) == 0.25 && objective.beta(of: "z2", at: 15) == 2)
        #expect(objective.beta(of: "z1", at: 25) == 0.5 && objective.beta(of: "z2", at: 25) == 4)
        #expect(ObjectiveSpec(weight: .targetRate(TargetRate(rate: 3)), warmUp: KLWarmUp(epochs: 2)).problem()?.setting == .klWarmupEpochs)
        #expect(ObjectiveSpec(layers: ["z1": .constant(beta: -1)]).problem()?.setting == .beta1)
    }
}
