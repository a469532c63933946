import RDCompute

/// The input of a convolution copied with its zero padding made explicit, so that every
/// patch row is in bounds: the implicit-GEMM passes read patches straight from it.
///
/// Either the whole batch is copied up front (`init`), or, with ``Scratch``, each worker pads
/// one image at a time just before using it, so the copy is still in L2 when it is read. Both
/// take their memory from the calling thread's ``ThreadScratch`` and give it back with
/// ``giveBack()``, in the reverse order of taking.
struct CPUConvPadded {
    let base: UnsafeMutablePointer<Float>
    /// Padded height and width.
    let height: Int, width: Int
    let channels: Int
    var imageSize: Int { height * width * channels }

    /// Floats taken from the scratch (zero for one image of a ``Scratch``, which owns them).
    private let takenCount: Int

    /// Copies `input` (NHWC, geometry `g`) with `slack` zero floats after the last image for
    /// tiles that read past it; the caller gives the memory back with ``giveBack()``.
    init(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, slack: Int) {
        height = g.height + g.padTop + g.padBottom
        width = g.width + g.padLeft + g.padRight
        channels = g.inChannels
        let imageSize = height * width * channels
        takenCount = g.batch * imageSize + slack
        let base = ThreadScratch.current.take(Float.self, takenCount)
        (base + g.batch * imageSize).update(repeating: 0, count: slack)
        let paddedWidth = width
        Parallel.forEachRange(g.batch, PaddedImages(g: g, input: input, base: base, paddedWidth: paddedWidth,
            imageSize: imageSize))
        self.base = base
    }

    /// Images of a range, copied padded.
    struct PaddedImages: ParallelLoopBody {
        let g: Conv2DGeometry
        let input, base: UnsafeMutablePointer<Float>
        let paddedWidth, imageSize: Int

        func callAsFunction(_ images: Range<Int>, _ worker: Int) {
            for n in images { CPUConvPadded.pad(g, input: input, image: n, width: paddedWidth, into: base + n * imageSize) }
        }
    }

    /// Copies image `n` of `input` into `image` (padded rows of `width` pixels), zeroing only
    /// the border: top rows, then each row's right pad and the next row's left pad, bottom rows.
    static func pad(_ g: Conv2DGeometry, input: UnsafeMutablePointer<Float>, image n: Int, width wp: Int,
        into image: UnsafeMutablePointer<Float>) {
        let c = g.inChannels
        image.update(repeating: 0, count: (g.padTop * wp + g.padLeft) * c)
        for y in 0..<g.height {
            let row = image + ((y + g.padTop) * wp + g.padLeft) * c
            row.update(from: input + ((n * g.height + y) * g.width) * c, count: g.width * c)
            let gap = y + 1 < g.height ? g.padRight + g.padLeft : g.padRight + g.padBottom * wp
            (row + g.width * c).update(repeating: 0, count: gap * c)
        }
    }

    /// The first float of output pixel (n, oy, ox)'s patch: kernel row `ky` continues at
    /// `+ ky·width·channels` with `kernelWidth·channels` contiguous floats.
    @inline(__always)
    func patch(_ g: Conv2DGeometry, n: Int, oy: Int, ox: Int) -> UnsafeMutablePointer<Float> {
        base + ((n * height + oy * g.strideY) * width + ox * g.strideX) * channels
    }

    /// Gives the copy's memory back to the scratch it was taken from.
    func giveBack() {
        precondition(takenCount > 0, "one image of a scratch is given back with the scratch")
        ThreadScratch.current.give(base, takenCount)
    }

    /// One padded image per worker, filled on demand by ``image(_:of:worker:)``.
    struct Scratch {
        let padded: CPUConvPadded
        let geometry: Conv2DGeometry
        /// Floats from one worker's image to the next: the image and its slack.
        let stride: Int

        /// Room for ``Parallel/threads`` padded images of `g`, each followed by `slack` zeros.
        init(_ g: Conv2DGeometry, slack: Int) {
            let height = g.height + g.padTop + g.padBottom, width = g.width + g.padLeft + g.padRight
            let imageSize = height * width * g.inChannels
            stride = imageSize + slack
            let base = ThreadScratch.current.take(Float.self, Parallel.threads * stride)
            for worker in 0..<Parallel.threads { (base + worker * stride + imageSize).update(repeating: 0, count: slack) }
            padded = CPUConvPadded(base: base, height: height, width: width, channels: g.inChannels,
                takenCount: Parallel.threads * stride)
            geometry = g
        }

        /// Pads image `n` of `input` into `worker`'s slot and returns it as a batch of one:
        /// its patches are `patch(g, n: 0, oy:, ox:)`.
        func image(_ n: Int, of input: UnsafeMutablePointer<Float>, worker: Int) -> CPUConvPadded {
            let slot = padded.base + worker * stride
            CPUConvPadded.pad(geometry, input: input, image: n, width: padded.width, into: slot)
            return CPUConvPadded(base: slot, height: padded.height, width: padded.width, channels: padded.channels,
                takenCount: 0)
        }

        /// Gives the slots back to the scratch they were taken from.
        func giveBack() { padded.giveBack() }
    }

    private init(base: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, takenCount: Int) {
        self.base = base
        self.height = height
        self.width = width
        self.channels = channels
        self.takenCount = takenCount
    }
}
