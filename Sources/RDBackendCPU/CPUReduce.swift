import RDCompute

/// Reductions on the CPU with Double accumulation and a fixed order per output element.
enum CPUReduce {
    /// Rows per partial column sum: fixed, so the order of additions is the same on any
    /// thread count.
    static let rowsPerPart = 512
    /// Columns per task: a Double sum per column stays in L1.
    static let columnsPerTask = 256

    /// `output[c] = Σ_r x[r·columns + c]` (the bias gradient).
    static func columnSums(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, output: UnsafeMutablePointer<Float>) {
        columnSums(rows: rows, columns: columns, output: output, segments: StoredRows(x: x, columns: columns))
    }

    /// Column sums of a matrix whose row segments come from `segments`, which may compute
    /// them first (a fused elementwise pass). Tasks sum 512-row parts of a column block into
    /// Double partials, which are then added in part order.
    @inline(__always)
    static func columnSums<Segments: RowSegments>(rows: Int, columns: Int, output: UnsafeMutablePointer<Float>,
        segments: Segments) {
        let parts = max(1, (rows + rowsPerPart - 1) / rowsPerPart)
        let blocks = (columns + columnsPerTask - 1) / columnsPerTask
        let partialCount = parts * columns, partial = ThreadScratch.current.take(Double.self, partialCount)
        defer { ThreadScratch.current.give(partial, partialCount) }
        Parallel.forEachRange(parts * blocks,
            PartialColumnSums(segments: segments, partial: partial, rows: rows, columns: columns, blocks: blocks))
        Parallel.forEachRange(columns, grain: 1024, AddedPartials(partial: partial, output: output, columns: columns,
            parts: parts))
    }

    /// Double sums of a range of (512-row part, column block) tasks, each into its own partials.
    struct PartialColumnSums<Segments: RowSegments>: ParallelLoopBody {
        let segments: Segments
        let partial: UnsafeMutablePointer<Double>
        let rows, columns, blocks: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for task in range {
                let part = task / blocks, j0 = (task % blocks) * columnsPerTask
                let width = min(columnsPerTask, columns - j0)
                let sums = partial + part * columns + j0
                sums.update(repeating: 0, count: width)
                for r in (part * rowsPerPart)..<min(rows, (part + 1) * rowsPerPart) {
                    let row = segments.segment(r, j0, width)
                    for j in 0..<width { sums[j] += Double(row[j]) }
                }
            }
        }
    }

    /// A range of columns' sums: their partials added in part order.
    struct AddedPartials: ParallelLoopBody {
        let partial: UnsafeMutablePointer<Double>
        let output: UnsafeMutablePointer<Float>
        let columns, parts: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for j in range {
                var sum = 0.0
                for part in 0..<parts { sum += partial[part * columns + j] }
                output[j] = Float(sum)
            }
        }
    }

    /// The rows of a stored matrix.
    struct StoredRows: RowSegments {
        let x: UnsafeMutablePointer<Float>
        let columns: Int

        func segment(_ row: Int, _ firstColumn: Int, _ width: Int) -> UnsafePointer<Float> {
            UnsafePointer(x + row * columns + firstColumn)
        }
    }

    /// Reduction over a block of adjacent axes of `[outer, count, inner]`: rows of `inner`
    /// contiguous floats are added in the order of the block, so results equal the general
    /// path's, but the inner loop runs over contiguous memory. Threads own (outer, column chunk).
    static func reduceBlock(_ op: ReduceOp, _ x: UnsafeMutablePointer<Float>, outer: Int, count: Int, inner: Int,
        output: UnsafeMutablePointer<Float>) {
        let chunk = 256
        let chunks = (inner + chunk - 1) / chunk
        Parallel.forEachRange(outer * chunks, grain: max(1, 4096 / max(count * min(inner, chunk), 1)),
            BlockReduction(op: op, x: x, output: output, count: count, inner: inner, chunk: chunk, chunks: chunks))
    }

    /// A range of (outer index, column chunk) tasks.
    struct BlockReduction: ParallelLoopBody {
        let op: ReduceOp
        let x, output: UnsafeMutablePointer<Float>
        let count, inner, chunk, chunks: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            let scratch = ThreadScratch.current
            let sums = scratch.take(Double.self, chunk)
            defer { scratch.give(sums, chunk) }
            let best = scratch.take(Float.self, chunk)
            defer { scratch.give(best, chunk) }
            for task in range {
                let o = task / chunks, j0 = (task % chunks) * chunk, width = min(chunk, inner - j0)
                for j in 0..<width {
                    sums[j] = 0
                    best[j] = -.infinity
                }
                for r in 0..<count {
                    let row = x + (o * count + r) * inner + j0
                    if op == .max {
                        for j in 0..<width { best[j] = Swift.max(best[j], row[j]) }
                    } else {
                        for j in 0..<width { sums[j] += Double(row[j]) }
                    }
                }
                let out = output + o * inner + j0
                for j in 0..<width {
                    switch op {
                    case .sum: out[j] = Float(sums[j])
                    case .mean: out[j] = Float(sums[j] / Double(count))
                    case .max: out[j] = best[j]
                    }
                }
            }
        }
    }

    /// General reduction over `axes`: each output element walks its reduced sub-array.
    static func reduce(_ op: ReduceOp, _ x: UnsafeMutablePointer<Float>, shape: [Int], axes: [Int],
        output: UnsafeMutablePointer<Float>) {
        // Distinct axes (checked by the caller) that span min...max are a block of adjacent axes.
        if let first = axes.min(), let last = axes.max(), last - first + 1 == axes.count {
            reduceBlock(op, x, outer: shape[..<first].reduce(1, *), count: shape[first...last].reduce(1, *),
                inner: shape[(last + 1)...].reduce(1, *), output: output)
            return
        }
        let reduced = Set(axes)
        let strides = Broadcast.strides(of: shape, in: shape).enumerated().map { shape[$0.offset] == 1 ? 0 : $0.element }
        let keptAxes = shape.indices.filter { !reduced.contains($0) }
        let reducedAxes = shape.indices.filter { reduced.contains($0) }
        let outCount = keptAxes.reduce(1) { $0 * shape[$1] }
        let reduceCount = reducedAxes.reduce(1) { $0 * shape[$1] }
        guard outCount > 0 else { return }
        Parallel.forEachRange(outCount, grain: max(1, 4096 / max(reduceCount, 1)), GeneralReduction(op: op, x: x,
            output: output, shape: shape, strides: strides, keptAxes: keptAxes, reducedAxes: reducedAxes,
            reduceCount: reduceCount))
    }

    /// Output elements of a range, each from a walk of its reduced sub-array.
    struct GeneralReduction: ParallelLoopBody {
        let op: ReduceOp
        let x, output: UnsafeMutablePointer<Float>
        let shape, strides, keptAxes, reducedAxes: [Int]
        let reduceCount: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            var coordinate = [Int](repeating: 0, count: reducedAxes.count)
            for o in range {
                var rest = o
                var base = 0
                for axis in keptAxes.reversed() {
                    base += (rest % shape[axis]) * strides[axis]
                    rest /= shape[axis]
                }
                var sum = 0.0
                var best = -Float.infinity
                for i in coordinate.indices { coordinate[i] = 0 }
                var offset = base
                for _ in 0..<reduceCount {
                    let v = x[offset]
                    sum += Double(v)
                    best = Swift.max(best, v)
                    // odometer over the reduced axes, innermost fastest
                    var j = reducedAxes.count - 1
                    while j >= 0 {
                        let axis = reducedAxes[j]
                        coordinate[j] += 1
                        offset += strides[axis]
                        if coordinate[j] < shape[axis] { break }
                        offset -= coordinate[j] * strides[axis]
                        coordinate[j] = 0
                        j -= 1
                    }
                }
                switch op {
                case .sum: output[o] = Float(sum)
                case .mean: output[o] = Float(sum / Double(reduceCount))
                case .max: output[o] = best
                }
            }
        }
    }
}

/// Row segments of a matrix that ``CPUReduce/columnSums(rows:columns:output:segments:)`` adds
/// up by column.
protocol RowSegments {
    /// `width` floats of row `row` from column `firstColumn`, computed first if need be.
    func segment(_ row: Int, _ firstColumn: Int, _ width: Int) -> UnsafePointer<Float>
}

// MARK: Reductions on the CPU backend

extension CPUBackend {
    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        try OpValidation.checkReduce(x, shape: shape, axes: axes, output: output)
        CPUReduce.reduce(op, try pointer(x), shape: shape, axes: axes, output: try pointer(output))
    }
}
