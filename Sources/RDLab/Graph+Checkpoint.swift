import RDCompute

/// What a training step keeps for its backward pass.
public enum ActivationMemory: String, CaseIterable, Codable, Sendable {
    /// Every activation a backward rule needs, from the forward pass until that rule has run.
    case kept
    /// Checkpointed segments (a PixelCNN's gated resnets) keep only their inputs, and run
    /// their forward pass again, recording, when the backward pass reaches them: about a third
    /// more arithmetic for much less memory, with the same numbers.
    case recomputed
}

extension Graph {
    /// `segment(self, inputs)`: a deterministic function of `inputs` and of `parameters` (the
    /// leaves it reads). With ``ActivationMemory/recomputed`` it runs on a graph that records
    /// nothing, and its one record here keeps only `inputs`; the backward pass runs it again on
    /// a recording graph and back-propagates dL/d(output) through that, continuing the sums of
    /// the gradients of `inputs` and `parameters` where this graph left them. The same ops on
    /// the same values give the same activations, and the sums take their terms in the same
    /// order, so the gradients equal those of the plain graph to the last bit.
    func checkpointed(_ inputs: [Tensor], parameters: [Tensor], _ segment: @escaping (Graph, [Tensor]) throws -> Tensor)
        throws -> Tensor {
        guard activations == .recomputed else { return try segment(self, inputs) }
        let output = try segment(Graph(segmentOf: self, recording: false), inputs)
        return record(output.shape, output.buffer, inputs: inputs + parameters, rule: .continuing { [unowned self] gy, sums in
            let again = Graph(segmentOf: self, recording: true)
            let leaves = inputs.map { Tensor(shape: $0.shape, buffer: $0.buffer, requiresGradient: $0.requiresGradient) }
            for (leaf, sum) in zip(leaves + parameters, sums) {
                if let sum { again.seedGradient(of: leaf, sum) }
            }
            try again.backward(from: try segment(again, leaves), seed: gy)
            return (leaves + parameters).map { again.gradient(of: $0) }
        })
    }
}
