import RDCompute

/// The batch is processed in chunks of column-matrix rows so that the im2col scratch stays
/// bounded: at most ``budget`` floats (16 MiB), or one row (one patch, no larger than the
/// filter) when a single patch exceeds that.
enum ConvChunks {
    /// Floats of column matrix per chunk.
    static let budget = 1 << 22

    /// Rows per chunk for patches of `patch` floats: ≥ 1, and a CBLAS `int`.
    static func rowsPerChunk(patch: Int, budget: Int = budget) -> Int {
        min(BLASSizes.maxInt, max(1, budget / max(1, patch)))
    }

    /// Calls `body(rows, isFirst)` for consecutive ranges covering `0 ..< total`, each at most `rowsPerChunk` long.
    static func forEach(total: Int, rowsPerChunk: Int, _ body: (Range<Int>, Bool) -> Void) {
        var lower = 0
        while lower < total {
            let upper = lower + min(rowsPerChunk, total - lower)
            body(lower..<upper, lower == 0)
            lower = upper
        }
    }

    /// Like ``forEach(total:rowsPerChunk:_:)`` with a scratch column matrix for each chunk
    /// (allocated once, freed at the end), for geometries whose columns are not the input itself.
    static func withColumns(_ g: Conv2DGeometry, budget: Int = budget,
        _ body: (Range<Int>, Bool, UnsafeMutablePointer<Float>) -> Void) {
        let patch = Im2Col.patch(g), total = g.batch * g.outHeight * g.outWidth
        let rows = min(rowsPerChunk(patch: patch, budget: budget), total)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * patch)
        defer { columns.deallocate() }
        forEach(total: total, rowsPerChunk: rows) { range, isFirst in body(range, isFirst, columns) }
    }
}
