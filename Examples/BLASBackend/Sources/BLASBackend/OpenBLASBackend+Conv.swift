import RDCompute

/// The three passes of a 2-D convolution (NHWC input, HWIO filter; ``Conv2DGeometry``) as
/// matrix products on OpenBLAS. With X the column matrix of the input (``Im2Col``: one row of
/// `patch = kh · kw · cin` taps per output pixel, rows = batch · outHeight · outWidth), W the filter
/// as a `patch × cout` matrix and Y (dY) the output (gradient) as a `rows × cout` matrix:
///
/// - forward:          `Y = X · W`                          (im2col, then sgemm)
/// - backward-data:    `dX = col2im(dY · Wᵀ)`                (sgemm, then scatter-add; overwrites)
/// - backward-filter:  `dW = Xᵀ · dY = Σ_chunks X_cᵀ · dY_c` (im2col, then sgemm with β = 1 after the first chunk; overwrites)
///
/// Rows are processed in chunks (``ConvChunks``), so the column scratch stays bounded; when the
/// column matrix is the input itself (``Im2Col/inputIsColumns(_:)``) the products read and write
/// the tensors directly.
extension OpenBLASBackend {
    func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try BLASSizes.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        let (x, w, y) = (try pointer(input), try pointer(filter), try pointer(output))
        let patch = Im2Col.patch(g), cout = g.outChannels, total = g.batch * g.outHeight * g.outWidth
        func product(_ rows: Range<Int>, _ columns: UnsafePointer<Float>) {
            Self.sgemm(GemmDescriptor(m: rows.count, n: cout, k: patch), a: columns, b: w, c: y + rows.lowerBound * cout)
        }
        if Im2Col.inputIsColumns(g) {
            ConvChunks.forEach(total: total, rowsPerChunk: BLASSizes.maxInt) { rows, _ in product(rows, x + rows.lowerBound * patch) }
            return
        }
        ConvChunks.withColumns(g, budget: columnBudget) { rows, _, columns in
            Im2Col.im2col(g, input: x, rows: rows, columns: columns)
            product(rows, columns)
        }
    }

    func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try BLASSizes.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        let (dy, w, dx) = (try pointer(gradOutput), try pointer(filter), try pointer(gradInput))
        let patch = Im2Col.patch(g), cout = g.outChannels, total = g.batch * g.outHeight * g.outWidth
        // dY_c · Wᵀ: W is stored patch × cout, read transposed (ldb = cout).
        func product(_ rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
            Self.sgemm(GemmDescriptor(m: rows.count, n: patch, k: cout, transposeB: true), a: dy + rows.lowerBound * cout,
                b: w, c: columns)
        }
        if Im2Col.inputIsColumns(g) {
            // Each input element is in exactly one patch: dX is the product itself (β = 0 overwrites).
            ConvChunks.forEach(total: total, rowsPerChunk: BLASSizes.maxInt) { rows, _ in
                product(rows, into: dx + rows.lowerBound * patch)
            }
            return
        }
        dx.update(repeating: 0, count: g.inputCount)
        ConvChunks.withColumns(g, budget: columnBudget) { rows, _, columns in
            product(rows, into: columns)
            Im2Col.col2im(g, columns: columns, rows: rows, gradInput: dx)
        }
    }

    func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try BLASSizes.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        let (x, dy, dw) = (try pointer(input), try pointer(gradOutput), try pointer(gradFilter))
        let patch = Im2Col.patch(g), cout = g.outChannels, total = g.batch * g.outHeight * g.outWidth
        // dW (+)= X_cᵀ · dY_c: X_c is stored rows × patch, read transposed (lda = patch).
        func product(_ rows: Range<Int>, _ isFirst: Bool, _ columns: UnsafePointer<Float>) {
            Self.sgemm(GemmDescriptor(m: patch, n: cout, k: rows.count, transposeA: true, beta: isFirst ? 0 : 1),
                a: columns, b: dy + rows.lowerBound * cout, c: dw)
        }
        if Im2Col.inputIsColumns(g) {
            ConvChunks.forEach(total: total, rowsPerChunk: BLASSizes.maxInt) { rows, isFirst in
                product(rows, isFirst, x + rows.lowerBound * patch)
            }
            return
        }
        ConvChunks.withColumns(g, budget: columnBudget) { rows, isFirst, columns in
            Im2Col.im2col(g, input: x, rows: rows, columns: columns)
            product(rows, isFirst, columns)
        }
    }
}
