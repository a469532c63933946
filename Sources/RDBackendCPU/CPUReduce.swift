import RDCompute

/// Reductions on the CPU with Double accumulation and a fixed order per output element.
enum CPUReduce {
    /// `output[c] = Σ_r x[r·columns + c]` (the bias gradient); threads own column ranges.
    static func columnSums(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, output: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(columns, grain: 8) { range, _ in
            var sums = [Double](repeating: 0, count: range.count)
            for r in 0..<rows {
                let row = x + r * columns + range.lowerBound
                for j in 0..<range.count { sums[j] += Double(row[j]) }
            }
            for j in 0..<range.count { output[range.lowerBound + j] = Float(sums[j]) }
        }
    }

    /// General reduction over `axes`: each output element walks its reduced sub-array.
    static func reduce(_ op: ReduceOp, _ x: UnsafeMutablePointer<Float>, shape: [Int], axes: [Int],
        output: UnsafeMutablePointer<Float>) {
        let reduced = Set(axes)
        let strides = Broadcast.strides(of: shape, in: shape).enumerated().map { shape[$0.offset] == 1 ? 0 : $0.element }
        let keptAxes = shape.indices.filter { !reduced.contains($0) }
        let reducedAxes = shape.indices.filter { reduced.contains($0) }
        let outCount = keptAxes.reduce(1) { $0 * shape[$1] }
        let reduceCount = reducedAxes.reduce(1) { $0 * shape[$1] }
        guard outCount > 0 else { return }
        Parallel.forEachRange(outCount, grain: max(1, 4096 / max(reduceCount, 1))) { range, _ in
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
