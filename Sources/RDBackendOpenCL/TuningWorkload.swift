import RDCompute
import RDParity

/// The tuner's inputs on the device, with their Double references: GEMMs of odd shapes, the
/// timed square GEMM (its first run checked on a sample of rows, so the host's reference stays
/// bounded at any --size), a small dense and a small masked convolution checked in all three
/// passes, and the timed convolution layer (timed only: its reference would take longer on
/// the host than the search).
struct TuningWorkload {
    struct Gemm {
        let descriptor: GemmDescriptor
        let buffers: (a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer)
        let c: [Float]
        /// The rows of C checked, in order; all of them for the small GEMMs.
        let rows: [Int]
        let reference: [Double]
    }

    /// One geometry's buffers: input, filter and output gradient in; output, input gradient and
    /// filter gradient out. `mask` nil: a dense conv; else the masked conv of its active taps.
    struct Conv {
        let geometry: Conv2DGeometry
        let mask: MaskedConv2DShape?
        let input: DeviceBuffer, filter: DeviceBuffer, gradOutput: DeviceBuffer
        let output: DeviceBuffer, gradInput: DeviceBuffer, gradFilter: DeviceBuffer
        /// Forward, backward-data and backward-filter results, indexed by `ConvPass.rawValue`; empty when not checked.
        let references: [[Double]]

        init(_ g: Conv2DGeometry, mask: MaskedConv2DShape? = nil, seed: UInt64, checked: Bool, on backend: OpenCLBackend) throws {
            geometry = g
            self.mask = mask
            let filterCount = mask?.filterCount ?? g.filterCount
            let x = GemmCheck.values(g.inputCount, seed: seed), w = GemmCheck.values(filterCount, seed: seed + 1)
            let dy = GemmCheck.values(g.outputCount, seed: seed + 2)
            (input, filter, gradOutput) = (try backend.makeBuffer(x), try backend.makeBuffer(w), try backend.makeBuffer(dy))
            output = try backend.makeBuffer(count: g.outputCount)
            gradInput = try backend.makeBuffer(count: g.inputCount)
            gradFilter = try backend.makeBuffer(count: filterCount)
            guard checked else {
                references = []
                return
            }
            // the masked conv's references: the dense ones with the inactive taps' filter zero
            let dense = mask.map { Reference.dense($0, w) } ?? w
            let filterGradient = Reference.convBackwardFilter(g, x, dy)
            references = [Reference.convForward(g, x, dense), Reference.convBackwardData(g, dy, dense),
                mask.map { Reference.activeTaps($0, filterGradient) } ?? filterGradient]
        }

        /// Runs `pass` with the candidate's kernels and returns the buffer it wrote.
        func run(_ pass: OpenCLBackend.ConvPass, on backend: OpenCLBackend, tiling: OpenCLBackend.ConvTiling) throws
            -> DeviceBuffer {
            let (a, b, c): (DeviceBuffer, DeviceBuffer, DeviceBuffer)
            switch pass {
            case .forward: (a, b, c) = (input, filter, output)
            case .backwardData: (a, b, c) = (gradOutput, filter, gradInput)
            case .backwardFilter: (a, b, c) = (input, gradOutput, gradFilter)
            }
            try backend.convPass(pass, geometry, mask: mask, a: a, b: b, c: c, tiling: tiling)
            return c
        }
    }

    let gemmChecks: [Gemm]
    let gemm: Gemm
    let convChecks: [Conv]
    let convLayer: Conv

    /// A conv whose three passes all take the tiled kernels (16 or more output columns, stride
    /// 1) and fill no tile exactly.
    static let convCheckGeometry = Conv2DGeometry(batch: 2, height: 9, width: 7, inChannels: 18, outChannels: 20, kernel: 3,
        stride: 1, padding: .same)

    /// Rows of the timed GEMM's C checked against the reference: at most this many, spread
    /// over C, so the check costs O(rows·size²) on the host, not O(size³).
    static let checkedRows = 64

    /// The rows of a size×size C checked: all of a small C, else about ``checkedRows`` spread
    /// evenly from the first to the last, ascending.
    static func sampledRows(of size: Int) -> [Int] {
        let step = max(1, (size + checkedRows - 1) / checkedRows)
        return Array(stride(from: 0, to: size, by: step)) + (size > 1 && (size - 1) % step != 0 ? [size - 1] : [])
    }

    init(size: Int, convLayer: Conv2DGeometry, on backend: OpenCLBackend) throws {
        func make(_ d: GemmDescriptor, seed: UInt64, rows: [Int]? = nil) throws -> Gemm {
            let a = GemmCheck.values(d.m * d.k, seed: seed), b = GemmCheck.values(d.k * d.n, seed: seed + 1)
            let c = GemmCheck.values(d.m * d.n, seed: seed + 2)
            let rows = rows ?? Array(0..<d.m)
            return Gemm(descriptor: d, buffers: (try backend.makeBuffer(a), try backend.makeBuffer(b), try backend.makeBuffer(c)),
                c: c, rows: rows, reference: Reference.gemm(d, a, b, c, rows: rows))
        }
        gemm = try make(GemmDescriptor(m: size, n: size, k: size), seed: 1, rows: Self.sampledRows(of: size))
        gemmChecks = try GemmCheck.edgeCases.enumerated().map { try make($0.element, seed: UInt64(10 * ($0.offset + 2))) } + [gemm]
        let g = Self.convCheckGeometry
        let masked = try MaskedConv2DShape.pixelCNN(.b, batch: g.batch, height: g.height, width: g.width,
            inChannels: g.inChannels, outChannels: g.outChannels, kernel: g.kernelHeight)
        convChecks = [try Conv(g, seed: 40, checked: true, on: backend),
            try Conv(masked.geometry, mask: masked, seed: 45, checked: true, on: backend)]
        self.convLayer = try Conv(convLayer, seed: 50, checked: false, on: backend)
    }
}
