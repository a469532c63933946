import RDCompute

/// The column matrix of a convolution and its two moves, for a range of its rows.
///
/// Row `r = (n · outHeight + oy) · outWidth + ox` of the column matrix is the patch under output
/// pixel (oy, ox) of image n: `patch = kernelHeight · kernelWidth · inChannels` floats ordered
/// [ky][kx][ci], the HWIO filter's row order, so that for a filter W viewed as a
/// `patch × outChannels` matrix
///
///     output[r, co] = Σ_j columns[r, j] · W[j, co]        (forward = columns · W)
///
/// Tap (ky, kx) of row r reads input pixel `iy = oy · strideY − padTop + ky`,
/// `ix = ox · strideX − padLeft + kx`, and is 0 where that lies outside the image (the zero padding).
enum Im2Col {
    static func patch(_ g: Conv2DGeometry) -> Int { g.kernelHeight * g.kernelWidth * g.inChannels }

    /// Whether the column matrix is the input itself, so no copy is needed: a 1×1 kernel of
    /// stride 1, or a kernel covering the whole image, both without padding.
    static func inputIsColumns(_ g: Conv2DGeometry) -> Bool {
        let unpadded = g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
        let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideY == 1 && g.strideX == 1
        let whole = g.kernelHeight == g.height && g.kernelWidth == g.width
        return unpadded && (pointwise || whole)
    }

    /// The taps kx of a kernel row starting at input column `x0` that land inside the image:
    /// `max(0, −x0) ..< min(kernelWidth, width − x0)` (empty when none do).
    @inline(__always)
    static func insideTaps(_ g: Conv2DGeometry, x0: Int) -> Range<Int> {
        let first = max(0, -x0), last = min(g.kernelWidth, g.width - x0)
        return first < last ? first..<last : 0..<0
    }

    /// Gathers rows `rows` of the column matrix into `columns` (row `rows.lowerBound` first):
    /// `columns[r − lower, (ky·kw + kx)·cin + ci] = input[n, iy, ix, ci]`, or 0 outside the image.
    static func im2col(_ g: Conv2DGeometry, input: UnsafePointer<Float>, rows: Range<Int>,
        columns: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth, cin = g.inChannels, patch = patch(g)
        let kernelRow = g.kernelWidth * cin
        HostParallel.forEachSlice(rows.count, work: rows.count * patch) { slice in
            for local in slice {
                let row = rows.lowerBound + local
                let n = row / pixels, p = row % pixels
                let oy = p / g.outWidth, ox = p % g.outWidth
                let x0 = ox * g.strideX - g.padLeft
                let taps = insideTaps(g, x0: x0)
                var dst = columns + local * patch
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky
                    if iy >= 0 && iy < g.height && !taps.isEmpty {
                        // The taps of one kernel row are adjacent in the image: one copy.
                        dst.update(repeating: 0, count: taps.lowerBound * cin)
                        (dst + taps.lowerBound * cin).update(
                            from: input + ((n * g.height + iy) * g.width + x0 + taps.lowerBound) * cin, count: taps.count * cin)
                        (dst + taps.upperBound * cin).update(repeating: 0, count: (g.kernelWidth - taps.upperBound) * cin)
                    } else {
                        dst.update(repeating: 0, count: kernelRow)
                    }
                    dst += kernelRow
                }
            }
        }
    }

    /// Scatter-adds rows `rows` of a column matrix into the images (the adjoint of ``im2col``):
    /// `gradInput[n, iy, ix, ci] += columns[r − lower, (ky·kw + kx)·cin + ci]` for every tap that
    /// lands inside the image; padding taps are dropped. The caller zeroes `gradInput` first.
    /// Threads own whole images, so no two write the same element.
    static func col2im(_ g: Conv2DGeometry, columns: UnsafePointer<Float>, rows: Range<Int>,
        gradInput: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth, cin = g.inChannels, patch = patch(g)
        let firstImage = rows.lowerBound / pixels, images = (rows.upperBound - 1) / pixels - firstImage + 1
        HostParallel.forEachSlice(images, work: rows.count * patch) { imageSlice in
            let lower = max(rows.lowerBound, (firstImage + imageSlice.lowerBound) * pixels)
            let upper = min(rows.upperBound, (firstImage + imageSlice.upperBound) * pixels)
            for row in lower..<upper {
                let n = row / pixels, p = row % pixels
                let oy = p / g.outWidth, ox = p % g.outWidth
                let x0 = ox * g.strideX - g.padLeft
                let taps = insideTaps(g, x0: x0)
                var src = columns + (row - rows.lowerBound) * patch
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideY - g.padTop + ky
                    if iy >= 0 && iy < g.height {
                        for kx in taps {
                            let dst = gradInput + ((n * g.height + iy) * g.width + x0 + kx) * cin
                            let tap = src + kx * cin
                            for ci in 0..<cin { dst[ci] += tap[ci] }
                        }
                    }
                    src += g.kernelWidth * cin
                }
            }
        }
    }
}
