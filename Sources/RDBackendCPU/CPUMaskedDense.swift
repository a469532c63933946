import RDCompute

/// Masked dense (MADE) layers on the CPU, with the GEMM micro-kernel over masked panels.
///
/// Degrees are nondecreasing, so a 32-output panel needs only the inputs its last output
/// sees: the forward pass packs each panel's weights to that depth (masking the entries
/// inside it) and never touches the blocks past it. The input gradient does the same over
/// 32-input panels, starting at the first output that sees the panel's first input; the
/// weight gradient computes only the 8-row tiles under each panel's prefix.
enum CPUMaskedDense {
    static let nr = CPUGemm.nr, mr = CPUGemm.mr

    /// `source` `[rows, columns]` copied into `[roundUp(rows, 8), paddedColumns]` zeros, so
    /// that 8-row tiles and 8-wide transposed tiles read inside the buffer; the copy is taken
    /// from the calling thread's ``ThreadScratch``, and `count` floats are given back.
    static func padded(_ source: UnsafeMutablePointer<Float>, rows: Int, columns: Int, paddedColumns: Int)
        -> (values: UnsafeMutablePointer<Float>, count: Int) {
        let count = CPUGemm.roundUp(rows, mr) * paddedColumns
        let out = ThreadScratch.current.take(Float.self, count)
        out.update(repeating: 0, count: count)
        for r in 0..<rows { (out + r * paddedColumns).update(from: source + r * columns, count: columns) }
        return (out, count)
    }

    /// The 32-column panels of `width` columns: each one's first column and width.
    struct Panels {
        let width: Int
        var count: Int { (width + nr - 1) / nr }
        subscript(p: Int) -> (first: Int, width: Int) { (p * nr, min(nr, width - p * nr)) }
    }

    /// Each panel's packed offset, `count + 1` of them from the calling thread's scratch
    /// (the caller gives them back): panel p's floats start at `offsets[p]`, and take
    /// `floats(p)`.
    static func offsets(_ count: Int, floats: (Int) -> Int) -> UnsafeMutablePointer<Int> {
        let offsets = ThreadScratch.current.take(Int.self, count + 1)
        offsets[0] = 0
        for p in 0..<count { offsets[p + 1] = offsets[p] + floats(p) }
        return offsets
    }

    static func forward(_ s: MaskedDenseShape, x: UnsafeMutablePointer<Float>, weight: UnsafeMutablePointer<Float>,
        bias: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let scratch = ThreadScratch.current
        let xs = padded(x, rows: s.batch, columns: s.inputs, paddedColumns: s.inputs)
        defer { scratch.give(xs.values, xs.count) }
        let panels = Panels(width: s.outputs)
        let depths = scratch.take(Int.self, panels.count)
        defer { scratch.give(depths, panels.count) }
        for p in 0..<panels.count { depths[p] = Int(s.prefixes[panels[p].first + panels[p].width - 1]) }
        let offsets = offsets(panels.count) { depths[$0] * nr }
        defer { scratch.give(offsets, panels.count + 1) }
        let packedCount = offsets[panels.count], packed = scratch.take(Float.self, packedCount)
        defer { scratch.give(packed, packedCount) }
        Parallel.forEachRange(panels.count, PackedOutputPanels(s: s, weight: weight, packed: packed, panels: panels,
            depths: depths, offsets: offsets))
        for b in 0..<s.batch { (output + b * s.outputs).update(from: bias, count: s.outputs) }
        let tiles = (s.batch + mr - 1) / mr
        Parallel.forEachRange(tiles * panels.count, OutputTiles(s: s, xs: xs.values, packed: packed, output: output,
            panels: panels, depths: depths, offsets: offsets))
    }

    /// W's 32-output panels of a range, packed up to each panel's last prefix, masked.
    struct PackedOutputPanels: ParallelLoopBody {
        let s: MaskedDenseShape
        let weight, packed: UnsafeMutablePointer<Float>
        let panels: Panels
        let depths, offsets: UnsafeMutablePointer<Int>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for p in range {
                let out = packed + offsets[p]
                for i in 0..<depths[p] {
                    for j in 0..<nr {
                        let o = panels[p].first + j
                        out[i * nr + j] = j < panels[p].width && i < Int(s.prefixes[o]) ? weight[i * s.outputs + o] : 0
                    }
                }
            }
        }
    }

    /// Y for a range of (8-row tile, 32-output panel) tasks.
    struct OutputTiles: ParallelLoopBody {
        let s: MaskedDenseShape
        let xs, packed, output: UnsafeMutablePointer<Float>
        let panels: Panels
        let depths, offsets: UnsafeMutablePointer<Int>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for task in range {
                let r0 = (task / panels.count) * mr, p = task % panels.count
                CPUGemm.microKernel(depth: depths[p], a: xs + r0 * s.inputs, aRowStride: s.inputs, aColumnStride: 1,
                    b: packed + offsets[p], alpha: 1, c: output + r0 * s.outputs + panels[p].first, rowStride: s.outputs,
                    columnStride: 1, height: min(mr, s.batch - r0), width: panels[p].width)
            }
        }
    }

    static func backward(_ s: MaskedDenseShape, x: UnsafeMutablePointer<Float>, weight: UnsafeMutablePointer<Float>,
        gradOutput gy: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        gradientOfInput(s, weight: weight, gradOutput: gy, gradInput: gradInput)
        gradientOfWeight(s, x: x, gradOutput: gy, gradWeight: gradWeight)
        CPUReduce.columnSums(gy, rows: s.batch, columns: s.outputs, output: gradBias)
    }

    /// dX[b, i] = Σ_{o ≥ first(i)} gy[b, o]·W[i, o], per 32-input panel from its first output on.
    static func gradientOfInput(_ s: MaskedDenseShape, weight: UnsafeMutablePointer<Float>,
        gradOutput gy: UnsafeMutablePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let scratch = ThreadScratch.current
        let gys = padded(gy, rows: s.batch, columns: s.outputs, paddedColumns: s.outputs)
        defer { scratch.give(gys.values, gys.count) }
        let panels = Panels(width: s.inputs)
        let starts = scratch.take(Int.self, panels.count)
        defer { scratch.give(starts, panels.count) }
        for p in 0..<panels.count { starts[p] = Int(s.firstOutputs[panels[p].first]) }
        let offsets = offsets(panels.count) { (s.outputs - starts[$0]) * nr }
        defer { scratch.give(offsets, panels.count + 1) }
        let packedCount = offsets[panels.count], packed = scratch.take(Float.self, packedCount)
        defer { scratch.give(packed, packedCount) }
        Parallel.forEachRange(panels.count, PackedInputPanels(s: s, weight: weight, packed: packed, panels: panels,
            starts: starts, offsets: offsets))
        let tiles = (s.batch + mr - 1) / mr
        Parallel.forEachRange(tiles * panels.count, InputGradientTiles(s: s, gys: gys.values, packed: packed,
            gradInput: gradInput, panels: panels, starts: starts, offsets: offsets))
    }

    /// Wᵀ's 32-input panels of a range, packed from each panel's first output on, masked.
    struct PackedInputPanels: ParallelLoopBody {
        let s: MaskedDenseShape
        let weight, packed: UnsafeMutablePointer<Float>
        let panels: Panels
        let starts, offsets: UnsafeMutablePointer<Int>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for p in range {
                let out = packed + offsets[p]
                for o in starts[p]..<s.outputs {
                    for j in 0..<nr {
                        let i = panels[p].first + j
                        out[(o - starts[p]) * nr + j] = j < panels[p].width && s.connects(input: i, output: o)
                            ? weight[i * s.outputs + o] : 0
                    }
                }
            }
        }
    }

    /// dX for a range of (8-row tile, 32-input panel) tasks.
    struct InputGradientTiles: ParallelLoopBody {
        let s: MaskedDenseShape
        let gys, packed, gradInput: UnsafeMutablePointer<Float>
        let panels: Panels
        let starts, offsets: UnsafeMutablePointer<Int>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for task in range {
                let r0 = (task / panels.count) * mr, p = task % panels.count
                CPUGemm.microKernel(depth: s.outputs - starts[p], a: gys + r0 * s.outputs + starts[p], aRowStride: s.outputs,
                    aColumnStride: 1, b: packed + offsets[p], alpha: 1, c: gradInput + r0 * s.inputs + panels[p].first,
                    rowStride: s.inputs, columnStride: 1, height: min(mr, s.batch - r0), width: panels[p].width,
                    overwrite: true)
            }
        }
    }

    /// dW[i, o] = Σ_b x[b, i]·gy[b, o] where o sees i, else 0: per 32-output panel, only the
    /// 8-input tiles under the panel's last prefix.
    static func gradientOfWeight(_ s: MaskedDenseShape, x: UnsafeMutablePointer<Float>, gradOutput gy: UnsafeMutablePointer<Float>,
        gradWeight: UnsafeMutablePointer<Float>) {
        let width = CPUGemm.roundUp(s.inputs, mr)
        let xs = padded(x, rows: s.batch, columns: s.inputs, paddedColumns: width)  // xᵀ tiles read 8 inputs per row
        defer { ThreadScratch.current.give(xs.values, xs.count) }
        let panels = Panels(width: s.outputs)
        let packedCount = panels.count * s.batch * nr, packed = ThreadScratch.current.take(Float.self, packedCount)
        defer { ThreadScratch.current.give(packed, packedCount) }
        CPUGemm.packB(CPUGemm.View(base: gy, rowStride: s.outputs, columnStride: 1), row: 0, column: 0, depth: s.batch,
            width: s.outputs, into: packed)
        gradWeight.update(repeating: 0, count: s.inputs * s.outputs)
        Parallel.forEachRange(panels.count, WeightGradientPanels(s: s, xs: xs.values, packed: packed, gradWeight: gradWeight,
            panels: panels, width: width))
    }

    /// dW for a range of 32-output panels.
    struct WeightGradientPanels: ParallelLoopBody {
        let s: MaskedDenseShape
        let xs, packed, gradWeight: UnsafeMutablePointer<Float>
        let panels: Panels
        let width: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for p in range {
                let (first, panelWidth) = panels[p]
                let rows = Int(s.prefixes[first + panelWidth - 1])
                for i0 in stride(from: 0, to: rows, by: mr) {
                    CPUGemm.microKernel(depth: s.batch, a: xs + i0, aRowStride: 1, aColumnStride: width,
                        b: packed + p * s.batch * nr, alpha: 1, c: gradWeight + i0 * s.outputs + first, rowStride: s.outputs,
                        columnStride: 1, height: min(mr, s.inputs - i0), width: panelWidth, overwrite: true)
                }
                // the masked entries inside the computed tiles
                for o in first..<(first + panelWidth) {
                    for i in Int(s.prefixes[o])..<min(s.inputs, CPUGemm.roundUp(rows, mr)) { gradWeight[i * s.outputs + o] = 0 }
                }
            }
        }
    }
}

// MARK: Masked dense on the CPU backend

extension CPUBackend {
    public func maskedDenseForward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedDenseForward(shape, x: x, weight: weight, bias: bias, output: output)
        CPUMaskedDense.forward(shape, x: try pointer(x), weight: try pointer(weight), bias: try pointer(bias),
            output: try pointer(output))
    }

    public func maskedDenseBackward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try OpValidation.maskedDenseBackward(shape, x: x, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        CPUMaskedDense.backward(shape, x: try pointer(x), weight: try pointer(weight), gradOutput: try pointer(gradOutput),
            gradInput: try pointer(gradInput), gradWeight: try pointer(gradWeight), gradBias: try pointer(gradBias))
    }
}
