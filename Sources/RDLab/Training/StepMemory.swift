import RDCompute

/// The device memory a training step needs, estimated before the run allocates it.
///
/// At each moment of a step, the bytes of its buffers alive at once (forward outputs its
/// backward rules still need, gradients in flight) are linear in the batch: `fᵢ + B · eᵢ`. The
/// peak is the largest of these lines, which need not be the moment that peaks at a small
/// batch: a large fixed buffer (the VampPrior's pseudo-inputs through the encoder) can
/// dominate at batch 2 and the decoder's activations at batch 100. Every moment is measured
/// by one forward and backward pass at batch 2 and at batch 3 on a measuring ``Graph`` (the
/// same buffers in the same order; no optimiser update; the model is a throwaway copy of the
/// configuration), and the lines no other line dominates are kept. The parameters with Adam's
/// two moments are added: `3 · 4 · parameters` bytes. Short-lived temporaries inside an op's
/// backward rule are not counted.
public struct StepMemory: Equatable, Sendable {
    /// The live bytes of one moment of a step: `fixedBytes + B · perExampleBytes`.
    public struct Moment: Equatable, Sendable {
        public let fixedBytes: Int
        public let perExampleBytes: Int

        public init(fixedBytes: Int, perExampleBytes: Int) {
            self.fixedBytes = fixedBytes
            self.perExampleBytes = perExampleBytes
        }

        func bytes(batch: Int) -> Int {
            let (activations, overflow) = perExampleBytes.multipliedReportingOverflow(by: batch)
            let (total, overflow2) = fixedBytes.addingReportingOverflow(activations)
            return overflow || overflow2 ? Int.max : total
        }
    }

    public let parameterBytes: Int
    /// The moments that can be the peak, by growing bytes per example (never empty).
    public let moments: [Moment]

    /// A step whose moments are `moments` (pruned to those no other one dominates).
    public init(parameterBytes: Int, moments: [Moment]) {
        self.parameterBytes = parameterBytes
        var kept: [Moment] = []
        // by falling bytes per example, then falling fixed bytes: a moment is kept when its
        // fixed part beats every steeper moment's
        for moment in moments.sorted(by: { ($0.perExampleBytes, $0.fixedBytes) > ($1.perExampleBytes, $1.fixedBytes) })
        where kept.last.map({ moment.fixedBytes > $0.fixedBytes }) ?? true {
            kept.append(moment)
        }
        self.moments = kept.isEmpty ? [Moment(fixedBytes: 0, perExampleBytes: 0)] : kept.reversed()
    }

    /// The moment that peaks at `batch`.
    public func peak(batch: Int) -> Moment {
        moments.max { $0.bytes(batch: batch) < $1.bytes(batch: batch) } ?? moments[0]
    }

    /// Bytes of a step at `batch` examples.
    public func bytes(batch: Int) -> Int {
        let (total, overflow) = parameterBytes.addingReportingOverflow(peak(batch: batch).bytes(batch: batch))
        return overflow ? Int.max : total
    }

    /// The largest batch whose step fits in `budget` bytes (0 when none does).
    public func largestBatch(within budget: Int) -> Int {
        moments.map { moment in
            let room = budget - parameterBytes - moment.fixedBytes
            guard room >= 0 else { return 0 }
            return moment.perExampleBytes > 0 ? room / moment.perExampleBytes : Int.max
        }.min() ?? 0
    }

    /// Measures the step of the model `spec` on `backend` for examples of `exampleShape`, keeping
    /// `activations` as a training step does.
    public static func estimate(_ spec: ModelSpec, exampleShape: [Int], backend: any Backend,
        activations: ActivationMemory = .kept) throws -> StepMemory {
        var probe = spec
        if case .echo(var echo) = spec {
            // Batches of 2 and 3 cannot hold the run's noise terms; one term drawn with
            // replacement has the same buffers per example.
            echo.terms = 1
            echo.replacement = .withReplacement
            probe = .echo(echo)
        }
        let model = try probe.makeModel(backend: backend, seed: 0)
        func history(batch: Int) throws -> (moments: [Int], peak: Int) {
            let graph = Graph(backend: backend, measuringMemory: true, activations: activations)
            let examples = try graph.filled(0.5, shape: [batch] + exampleShape)
            let out = try model(examples, in: graph, seed: 0, noiseStream: 0)
            try graph.backward(from: try graph.mean(try graph.add(out.distortion, try out.totalRate(in: graph))))
            return (graph.liveBytesHistory, graph.peakBytes)
        }
        let two = try history(batch: 2), three = try history(batch: 3)
        let parameters = model.parameters.reduce(0) { $0 + $1.tensor.count }
        // the same buffers in the same order at both batches: one line per moment; else (a model
        // whose buffers depend on the batch) the line through the two peaks
        let pairs = two.moments.count == three.moments.count ? Array(zip(two.moments, three.moments)) : [(two.peak, three.peak)]
        let moments = pairs.map { b2, b3 in Moment(fixedBytes: max(0, 3 * b2 - 2 * b3), perExampleBytes: max(0, b3 - b2)) }
        return StepMemory(parameterBytes: 3 * MemoryLayout<Float>.stride * parameters, moments: moments)
    }
}
