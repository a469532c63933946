import RDCompute
import RDParity

/// The tuner's inputs on the device, with their Double references: GEMMs of odd shapes and the
/// timed square GEMM (whose first run is checked too), a small convolution checked in all
/// three passes, and the timed convolution layer (timed only: its reference would take longer
/// on the host than the search).
struct TuningWorkload {
    struct Gemm {
        let descriptor: GemmDescriptor
        let buffers: (a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer)
        let c: [Float]
        let reference: [Double]
    }

    /// One geometry's buffers: input, filter and output gradient in; output, input gradient and
    /// filter gradient out.
    struct Conv {
        let geometry: Conv2DGeometry
        let input: DeviceBuffer, filter: DeviceBuffer, gradOutput: DeviceBuffer
        let output: DeviceBuffer, gradInput: DeviceBuffer, gradFilter: DeviceBuffer
        /// Forward, backward-data and backward-filter results, indexed by `ConvPass.rawValue`; empty when not checked.
        let references: [[Double]]

        init(_ g: Conv2DGeometry, seed: UInt64, checked: Bool, on backend: OpenCLBackend) throws {
            geometry = g
            let x = GemmCheck.values(g.inputCount, seed: seed), w = GemmCheck.values(g.filterCount, seed: seed + 1)
            let dy = GemmCheck.values(g.outputCount, seed: seed + 2)
            (input, filter, gradOutput) = (try backend.makeBuffer(x), try backend.makeBuffer(w), try backend.makeBuffer(dy))
            output = try backend.makeBuffer(count: g.outputCount)
            gradInput = try backend.makeBuffer(count: g.inputCount)
            gradFilter = try backend.makeBuffer(count: g.filterCount)
            references = checked
                ? [Reference.convForward(g, x, w), Reference.convBackwardData(g, dy, w), Reference.convBackwardFilter(g, x, dy)]
                : []
        }

        /// Runs `pass` with the candidate's kernels and returns the buffer it wrote.
        func run(_ pass: OpenCLBackend.ConvPass, on backend: OpenCLBackend, tiling: OpenCLBackend.ConvTiling) throws
            -> DeviceBuffer {
            switch pass {
            case .forward:
                try backend.convPass(.forward, geometry, mask: nil, a: input, b: filter, c: output, tiling: tiling)
                return output
            case .backwardData:
                try backend.convPass(.backwardData, geometry, mask: nil, a: gradOutput, b: filter, c: gradInput, tiling: tiling)
                return gradInput
            case .backwardFilter:
                try backend.convPass(.backwardFilter, geometry, mask: nil, a: input, b: gradOutput, c: gradFilter, tiling: tiling)
                return gradFilter
            }
        }
    }

    let gemmChecks: [Gemm]
    let gemm: Gemm
    let convCheck: Conv
    let convLayer: Conv

    /// A conv whose three passes all take the tiled kernels (16 or more output columns, stride
    /// 1) and fill no tile exactly.
    static let convCheckGeometry = Conv2DGeometry(batch: 2, height: 9, width: 7, inChannels: 18, outChannels: 20, kernel: 3,
        stride: 1, padding: .same)

    init(size: Int, convLayer: Conv2DGeometry, on backend: OpenCLBackend) throws {
        func make(_ d: GemmDescriptor, seed: UInt64) throws -> Gemm {
            let a = GemmCheck.values(d.m * d.k, seed: seed), b = GemmCheck.values(d.k * d.n, seed: seed + 1)
            let c = GemmCheck.values(d.m * d.n, seed: seed + 2)
            return Gemm(descriptor: d, buffers: (try backend.makeBuffer(a), try backend.makeBuffer(b), try backend.makeBuffer(c)),
                c: c, reference: GemmCheck.reference(d, a: a, b: b, c: c))
        }
        gemm = try make(GemmDescriptor(m: size, n: size, k: size), seed: 1)
        gemmChecks = try GemmCheck.edgeCases.enumerated().map { try make($0.element, seed: UInt64(10 * ($0.offset + 2))) } + [gemm]
        convCheck = try Conv(Self.convCheckGeometry, seed: 40, checked: true, on: backend)
        self.convLayer = try Conv(convLayer, seed: 50, checked: false, on: backend)
    }
}
