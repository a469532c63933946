import RDCompute

/// The input of a convolution copied once with its zero padding made explicit, so that
/// every patch row is in bounds: the implicit-GEMM passes read patches straight from it.
struct CPUConvPadded {
    let base: UnsafeMutablePointer<Float>
    /// Padded height and width.
    let height: Int, width: Int
    let channels: Int
    var imageSize: Int { height * width * channels }

    /// Copies `input` (NHWC, geometry `g`) with `slack` zero floats after the last image for
    /// tiles that read past it; the caller deallocates with ``deallocate()``.
    init(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, slack: Int) {
        height = g.height + g.padTop + g.padBottom
        width = g.width + g.padLeft + g.padRight
        channels = g.inChannels
        let imageSize = height * width * channels
        let base = UnsafeMutablePointer<Float>.allocate(capacity: g.batch * imageSize + slack)
        (base + g.batch * imageSize).update(repeating: 0, count: slack)
        let (wp, c) = (width, channels)
        Parallel.forEachRange(g.batch) { images, _ in
            for n in images {
                // zero the border only: top rows, then each row's right pad and the next row's left pad, bottom rows
                let image = base + n * imageSize
                image.update(repeating: 0, count: (g.padTop * wp + g.padLeft) * c)
                for y in 0..<g.height {
                    let row = image + ((y + g.padTop) * wp + g.padLeft) * c
                    row.update(from: input + ((n * g.height + y) * g.width) * c, count: g.width * c)
                    let gap = y + 1 < g.height ? g.padRight + g.padLeft : g.padRight + g.padBottom * wp
                    (row + g.width * c).update(repeating: 0, count: gap * c)
                }
            }
        }
        self.base = base
    }

    /// The first float of output pixel (n, oy, ox)'s patch: kernel row `ky` continues at
    /// `+ ky·width·channels` with `kernelWidth·channels` contiguous floats.
    @inline(__always)
    func patch(_ g: Conv2DGeometry, n: Int, oy: Int, ox: Int) -> UnsafeMutablePointer<Float> {
        base + ((n * height + oy * g.strideY) * width + ox * g.strideX) * channels
    }

    func deallocate() { base.deallocate() }
}
