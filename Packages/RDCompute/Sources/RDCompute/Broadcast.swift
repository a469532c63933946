/// NumPy broadcasting and axis bookkeeping shared by every backend.
public enum Broadcast {
    /// The broadcast shape of `a` and `b` (aligned on the right), or an error naming both.
    public static func shape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        if a == b { return a }
        let rank = max(a.count, b.count)
        return try [Int](unsafeUninitializedCapacity: rank) { buffer, initialized in
            try shape(a, b, into: buffer.baseAddress!)
            initialized = rank
        }
    }

    /// The broadcast shape of `a` and `b` written to `out` (room for the larger rank), for
    /// callers that keep it off the heap; returns its element count.
    @discardableResult
    public static func shape(_ a: [Int], _ b: [Int], into out: UnsafeMutablePointer<Int>) throws -> Int {
        let rank = max(a.count, b.count)
        var count = 1
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw ComputeError.invalidArgument(op: "broadcast", reason: "shapes \(a) and \(b) do not broadcast")
            }
            out[i] = da == 1 ? db : da
            count *= out[i]
        }
        return count
    }

    /// Row-major strides of `shape` as seen from `outShape`: 0 on broadcast axes.
    public static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        [Int](unsafeUninitializedCapacity: outShape.count) { buffer, initialized in
            if let base = buffer.baseAddress { strides(of: shape, rank: outShape.count, into: base) }
            initialized = outShape.count
        }
    }

    /// The same `rank` strides written to `strides`, for callers that keep them off the heap.
    public static func strides(of shape: [Int], rank: Int, into strides: UnsafeMutablePointer<Int>) {
        let lead = rank - shape.count
        var running = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let size = axis < lead ? 1 : shape[axis - lead]
            strides[axis] = size == 1 ? 0 : running
            running *= size
        }
    }

    /// Product of the dimensions.
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The shape left after reducing `axes` (reduced axes are dropped), checking the axes.
    public static func reducedShape(_ shape: [Int], axes: [Int]) throws -> [Int] {
        let reduced = try reducedAxes(shape, axes: axes)
        return shape.indices.filter { reduced & 1 << $0 == 0 }.map { shape[$0] }
    }

    /// The element count of ``reducedShape(_:axes:)``, without making it.
    public static func reducedCount(_ shape: [Int], axes: [Int]) throws -> Int {
        let reduced = try reducedAxes(shape, axes: axes)
        var count = 1
        for axis in shape.indices where reduced & 1 << axis == 0 { count *= shape[axis] }
        return count
    }

    /// Bit `a` set for each axis `a` of `axes`: distinct axes of `shape`, whose rank is at most 63.
    private static func reducedAxes(_ shape: [Int], axes: [Int]) throws -> Int {
        var mask = 0
        for axis in axes {
            guard axis >= 0, axis < shape.count, axis < 63, mask & 1 << axis == 0 else {
                throw ComputeError.invalidArgument(op: "reduce", reason: "axes \(axes) invalid for shape \(shape)")
            }
            mask |= 1 << axis
        }
        return mask
    }
}
