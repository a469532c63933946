import RDCompute

/// The device memory a training step needs, estimated before the run allocates it.
///
/// The peak of a step's buffers alive at once (forward outputs kept by the tape, gradients)
/// grows linearly in the batch: `fixed + B · perExample`. Both terms are measured by one
/// forward and backward pass at batch 1 and at batch 2 on a measuring ``Graph`` (no optimiser
/// update; the model is a throwaway copy of the configuration), and the parameters with Adam's
/// two moments are added: `3 · 4 · parameters` bytes. Short-lived temporaries inside an op's
/// backward rule are not counted.
public struct StepMemory: Equatable, Sendable {
    public let parameterBytes: Int
    public let fixedBytes: Int
    public let perExampleBytes: Int

    public init(parameterBytes: Int, fixedBytes: Int, perExampleBytes: Int) {
        self.parameterBytes = parameterBytes
        self.fixedBytes = fixedBytes
        self.perExampleBytes = perExampleBytes
    }

    /// Bytes of a step at `batch` examples.
    public func bytes(batch: Int) -> Int {
        let (activations, overflow) = perExampleBytes.multipliedReportingOverflow(by: batch)
        let (fixed, overflow2) = parameterBytes.addingReportingOverflow(fixedBytes)
        let (total, overflow3) = fixed.addingReportingOverflow(activations)
        return overflow || overflow2 || overflow3 ? Int.max : total
    }

    /// The largest batch whose step fits in `budget` bytes (0 when none does).
    public func largestBatch(within budget: Int) -> Int {
        guard perExampleBytes > 0 else { return Int.max }
        return max(0, (budget - parameterBytes - fixedBytes) / perExampleBytes)
    }

    /// Measures the step of the model `spec` on `backend` for examples of `exampleShape`.
    public static func estimate(_ spec: ModelSpec, exampleShape: [Int], backend: any Backend) throws -> StepMemory {
        var probe = spec
        if case .echo(var echo) = spec {
            // Batches of 1 and 2 cannot hold the run's noise terms; one term drawn with
            // replacement has the same buffers per example.
            echo.terms = 1
            echo.replacement = .withReplacement
            probe = .echo(echo)
        }
        let model = try probe.makeModel(backend: backend, seed: 0)
        func graphBytes(batch: Int) throws -> Int {
            let graph = Graph(backend: backend, measuringMemory: true)
            let examples = try graph.filled(0.5, shape: [batch] + exampleShape)
            let out = try model(examples, in: graph, seed: 0, noiseStream: 0)
            try graph.backward(from: try graph.mean(try graph.add(out.distortion, try out.totalRate(in: graph))))
            return graph.peakBytes
        }
        let one = try graphBytes(batch: 1), two = try graphBytes(batch: 2)
        let parameters = model.parameters.reduce(0) { $0 + $1.tensor.count }
        return StepMemory(parameterBytes: 3 * MemoryLayout<Float>.stride * parameters, fixedBytes: max(0, 2 * one - two),
            perExampleBytes: max(0, two - one))
    }
}
