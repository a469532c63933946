import RDCompute

/// A model whose latent layers the probes of HIT's evaluation can read: per-layer posterior
/// means, and reconstructions for PSNR.
public protocol ProbedModel: RateDistortionModel {
    /// The posterior mean and one posterior sample of every latent layer `[B, …]`, in
    /// ``RateDistortionModel/latentLayers`` order, for images `[B, …]`; noise from Philox
    /// (seed, stream).
    func posteriorFeatures(_ images: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws
        -> (means: [Tensor], samples: [Tensor])
    /// The reconstructions PSNR scores: values in [0, 1] shaped like `images`.
    func meanReconstruction(_ images: Tensor, in graph: Graph) throws -> Tensor
    /// For each layer, the layers whose rates bound the information it carries about x (and so
    /// about any label): Σ_{l' ≥ l} R_{l'} for a top-down hierarchy.
    var informationLayers: [[String]] { get }
}

extension HierarchicalVAE: ProbedModel {
    /// HIT's features: μ₂ of q(z₂|x), and μ₁ of q(z₁|z₂, x) at one sampled z₂; the samples
    /// are that z₂ and a z₁ drawn at it (the training step's draws).
    public func posteriorFeatures(_ images: Tensor, in graph: Graph, seed: UInt64, stream: UInt64) throws
        -> (means: [Tensor], samples: [Tensor]) {
        let q = try posteriors(images, in: graph, noise: (seed, stream))
        let z1 = try sampleBottom(q, in: graph, seed: seed, stream: stream)
        return ([q.bottom.mean, q.top.mean], [z1.z1, q.z2])
    }

    /// z₁ carries at most R₁ + R₂ nats about x (it is computed from z₂ and x), z₂ at most R₂.
    public var informationLayers: [[String]] {
        [[HierarchicalSpec.bottomLayer, HierarchicalSpec.topLayer], [HierarchicalSpec.topLayer]]
    }
}

/// HIT's evaluation of a trained model on labelled test data: PSNR of the mean-path
/// reconstructions, and per layer the logistic and k-NN probes on the posterior means, fitted
/// on one seeded split of the test set (HIT: 80/20 of the labelled test set), against the
/// accuracy the layer's information budget allows (``InformationBound``).
public enum ProbeEvaluator {
    /// `batches` yields the test set in order (binarised as in training), `labels` one class per
    /// example in the same order, `rates` the test-set rate of each layer by name.
    public static func evaluate(_ model: any ProbedModel, batches: Int, batch: (Int) throws -> HostBatch, labels: [Int],
        classes: Int, rates: [String: Double], seed: UInt64, split splitSeed: UInt64 = ProbeSplit.defaultSeed) throws -> ProbeReport {
        var psnr = try PSNRAccumulator()
        var features = [[Float]](repeating: [], count: model.latentLayers.count)
        var samples = [[Float]](repeating: [], count: model.latentLayers.count)
        var dimensions = [Int](repeating: 0, count: model.latentLayers.count)
        var examples = 0
        for index in 0..<batches {
            try StopSignal.check()
            let host = try batch(index)
            let graph = Graph(backend: model.backend)
            let images = try graph.constant(host.values, shape: host.shape)
            let reconstruction = try model.meanReconstruction(images, in: graph)
            try psnr.add(reconstructions: reconstruction.buffer, targets: images.buffer, on: model.backend)
            let drawn = try model.posteriorFeatures(images, in: graph, seed: seed, stream: ModelTrainer.evaluationNoise(batch: index))
            for (l, (mean, sample)) in zip(drawn.means, drawn.samples).enumerated() {
                features[l] += try graph.values(mean)
                samples[l] += try graph.values(sample)
                dimensions[l] = mean.count / max(host.count, 1)
            }
            examples += host.count
        }
        guard labels.count == examples else {
            throw ProbeError.sizeMismatch("labels of the test examples", expected: examples, found: labels.count)
        }
        let split = try ProbeSplit(count: examples, seed: splitSeed)
        func measure(_ values: [[Float]]) throws -> [LayerProbeReport] {
            try model.latentLayers.enumerated().map { l, name in
                let budget = model.informationLayers[l].reduce(0.0) { $0 + (rates[$1] ?? .nan) }
                return try LayerProbeReport.measure(layer: name,
                    data: try LabelledFeatures(features: values[l], labels: labels, dimension: dimensions[l], classes: classes),
                    rateNats: budget, split: split, on: model.backend)
            }
        }
        let decibels = try psnr.decibels()
        return ProbeReport(psnrDecibels: decibels.isFinite ? decibels : nil, classes: classes, fittingExamples: split.fitting.count,
            heldOutExamples: split.heldOut.count, splitSeed: splitSeed, layers: try measure(features),
            sampledLayers: try measure(samples))
    }
}
