import RDCompute

/// Rewrites a take's calls so that a conv pass and the elementwise op that alone reads its
/// output run as one ``Backend/conv2dFused(_:pass:input:filter:epilogue:output:)`` call, which
/// finishes each part of the output while it is in cache, and the pass's output buffer is never
/// made:
///
/// - a pass whose output only ``Backend/biasReLU(_:bias:output:)`` reads (a conv layer's
///   forward pass) becomes the pass with a `.biasReLU` epilogue writing the ReLU's output;
/// - a pass whose output only ``Backend/biasReLUBackward(output:gradOutput:gradInput:gradBias:)``
///   reads as its `gradOutput` (a backward pass into a ReLU layer) becomes the pass with a
///   `.reluGate` epilogue writing that op's `gradInput`, and the op's place keeps
///   ``Backend/biasGradient(_:gradBias:)`` over it.
///
/// The results are the same to the bit: each epilogue is the elementwise op's arithmetic, and
/// the bias gradient sums the same values in the same order. The fused call runs where the pass
/// ran, so the work moved forward must not meet a call in between: no call between them may
/// name the buffer the elementwise op writes, and those that name a buffer it reads may only
/// read it (a filter gradient's input: the backward pass of the layer above reads the
/// activation between its backward-data and the ReLU's backward pass). Both takes of a plan
/// are fused alike, so they are compared as before.
enum StepFusion {
    typealias Call = StepRecorder.Call

    /// The fused op and those it stands for: a backend fuses only if it has them all.
    static let ops: Set<Op> = [.conv2dFused, .conv2dForward, .conv2dBackwardData, .biasReLU, .biasReLUBackward, .biasGradient]

    /// `calls` (of a take that made buffers of `madeCounts`) with every such pair fused, and
    /// the number fused. A pair fuses only where the elementwise op covers exactly the pass's
    /// output with the pass's channels, as the fused op does.
    static func fused(_ calls: [Call], madeCounts: [Int]) -> (calls: [Call], pairs: Int) {
        var uses: [Int: Int] = [:]
        for call in calls {
            for case .made(let buffer) in call.operands { uses[buffer, default: 0] += 1 }
        }
        var result = calls
        var removed = Set<Int>()
        var pairs = 0
        for (index, call) in calls.enumerated() {
            guard case .imagePass(let geometry, let pass) = call.role, case .made(let written) = call.operands[2],
                uses[written] == 2,
                let consumer = calls.indices.dropFirst(index + 1).first(where: { calls[$0].operands.contains(.made(written)) })
            else { continue }
            let (input, filter) = (call.operands[0], call.operands[1])
            guard madeCounts[written] == pass.counts(geometry).output else { continue }
            let next = calls[consumer]
            switch next.role {
            case .biasReLU? where next.operands[0] == .made(written):
                let (bias, output) = (next.operands[1], next.operands[2])
                guard bias.count(madeCounts: madeCounts) == pass.outputChannels(geometry),
                    movable(calls[(index + 1)..<consumer], writes: output, reads: bias),
                    !([input, filter, bias].contains(output))
                else { continue }
                result[index] = Call(signature: "fused biasReLU " + call.signature, operands: [input, filter, bias, output],
                    dependence: .none) { backend, o, _ in
                    try backend.conv2dFused(geometry, pass: pass, input: o[0], filter: o[1], epilogue: .biasReLU(bias: o[2]),
                        output: o[3])
                }
                removed.insert(consumer)
            case .biasReLUBackward? where next.operands[1] == .made(written):
                let (activation, gradInput, gradBias) = (next.operands[0], next.operands[2], next.operands[3])
                guard movable(calls[(index + 1)..<consumer], writes: gradInput, reads: activation),
                    !([input, filter, activation].contains(gradInput))
                else { continue }
                result[index] = Call(signature: "fused reluGate " + call.signature,
                    operands: [input, filter, activation, gradInput], dependence: .none) { backend, o, _ in
                    try backend.conv2dFused(geometry, pass: pass, input: o[0], filter: o[1],
                        epilogue: .reluGate(activation: o[2]), output: o[3])
                }
                result[consumer] = Call(signature: "biasGradient after " + next.signature, operands: [gradInput, gradBias],
                    dependence: .none) { backend, o, _ in
                    try backend.biasGradient(o[0], gradBias: o[1])
                }
            default:
                continue
            }
            pairs += 1
        }
        let kept = result.indices.filter { !removed.contains($0) }.map { result[$0] }
        return (kept, pairs)
    }

    /// Whether work that writes `written` and reads `read` can run before `between`: none of
    /// them names `written`, and those that name `read` are filter gradients reading it.
    private static func movable(_ between: ArraySlice<Call>, writes written: StepRecorder.Operand,
        reads read: StepRecorder.Operand) -> Bool {
        between.allSatisfy { call in
            guard !call.operands.contains(written) else { return false }
            guard call.operands.contains(read) else { return true }
            if case .filterGradient? = call.role { return call.operands[2] != read }
            return false
        }
    }
}
