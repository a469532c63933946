import RDCompute

extension Graph {
    /// `x·(W ⊙ M) + bias` for the MADE connectivity of `degrees` (seed-spec §3.1): x `[B, in]`,
    /// w `[in, out]`, bias `[out]` → `[B, out]`. Masked weights get zero gradient.
    public func maskedDense(_ x: Tensor, _ w: Tensor, _ bias: Tensor, inputDegrees: [Int], outputDegrees: [Int]) throws -> Tensor {
        guard x.shape.count == 2, w.shape == [inputDegrees.count, outputDegrees.count], x.shape[1] == inputDegrees.count,
            bias.shape == [outputDegrees.count]
        else {
            throw ComputeError.invalidArgument(op: "maskedDense",
                reason: "x \(x.shape), weight \(w.shape), bias \(bias.shape) do not fit \(inputDegrees.count) → \(outputDegrees.count)")
        }
        let shape = try MaskedDenseShape(batch: x.shape[0], inputDegrees: inputDegrees, outputDegrees: outputDegrees)
        let y = try output([shape.batch, shape.outputs])
        try backend.maskedDenseForward(shape, x: x.buffer, weight: w.buffer, bias: bias.buffer, output: y)
        return record([shape.batch, shape.outputs], y, inputs: [x, w, bias]) { [backend] gy in
            let dx = try backend.makeBuffer(count: x.count), dw = try backend.makeBuffer(count: w.count)
            let db = try backend.makeBuffer(count: bias.count)
            try backend.maskedDenseBackward(shape, x: x.buffer, weight: w.buffer, gradOutput: gy, gradInput: dx, gradWeight: dw,
                gradBias: db)
            return [dx, dw, db]
        }
    }
}
