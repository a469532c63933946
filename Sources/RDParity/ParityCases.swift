import Foundation
import RDCompute

/// One op on one set of shapes: runs it on a backend and returns (result, reference), the
/// reference computed in Double by ``Reference``. The parity suite and `rdlab selftest` run
/// these same cases through ``ParityRunner``.
public struct ParityCase: Sendable {
    /// The op under test; `nil` for the buffer methods every backend has (upload, copy, fill).
    public let op: Op?
    public let name: String
    /// Largest normalised mean squared error accepted.
    public let tolerance: Double
    public let run: @Sendable (any Backend) throws -> (values: [Float], reference: [Double])

    init(_ op: Op?, name: String, tolerance: Double,
        run: @escaping @Sendable (any Backend) throws -> (values: [Float], reference: [Double])) {
        self.op = op
        self.name = name
        self.tolerance = tolerance
        self.run = run
    }

    /// What `--op` matches and reports group by: the op's name, or `buffers`.
    public var subject: String { op?.rawValue ?? Self.buffersSubject }
    public static let buffersSubject = "buffers"

    public static let elementwise = 1e-10
    public static let accumulating = 1e-8

    public static var all: [ParityCase] {
        bufferCases + gemmCases + convCases + fusedConvCases + biasCases + unaryCases + binaryCases + reduceCases + lossCases
            + klPairCases + ar1KLCases + randomCases + adamCases + echoCases + maskedCases + maskedConvCases
    }

    // MARK: Buffers

    public static var bufferCases: [ParityCase] {
        [1, 5, 1000].flatMap { n in
            [
                ParityCase(nil, name: "upload/download n=\(n)", tolerance: 0) { backend in
                    var data = TestData(seed: 1)
                    let values = data.values(n)
                    return (try backend.download(try backend.makeBuffer(values)), values.map(Double.init))
                },
                ParityCase(nil, name: "copy n=\(n)", tolerance: 0) { backend in
                    var data = TestData(seed: 2)
                    let values = data.values(n)
                    let target = try backend.makeBuffer(count: n)
                    try backend.copy(try backend.makeBuffer(values), to: target)
                    return (try backend.download(target), values.map(Double.init))
                },
                ParityCase(nil, name: "fill n=\(n)", tolerance: 0) { backend in
                    let target = try backend.makeBuffer(count: n)
                    try backend.fill(target, with: -2.5)
                    return (try backend.download(target), [Double](repeating: -2.5, count: n))
                },
            ]
        }
    }

    // MARK: GEMM

    public static var gemmCases: [ParityCase] {
        let shapes = [(1, 1, 1), (7, 5, 3), (33, 65, 17), (100, 32, 256), (17, 9, 300), (130, 1, 77), (150, 70, 300),
            (3, 40, 2)]
        var cases: [ParityCase] = []
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0.75)] {
                    let d = GemmDescriptor(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta)
                    cases.append(ParityCase(.gemm, name: "\(d)", tolerance: accumulating) { backend in
                        var data = TestData(seed: UInt64(m * 1000 + n * 10 + k))
                        let a = data.values(m * k), b = data.values(k * n), c = data.values(m * n)
                        let cBuffer = try backend.makeBuffer(c)
                        try backend.gemm(d, a: try backend.makeBuffer(a), b: try backend.makeBuffer(b), c: cBuffer)
                        return (try backend.download(cBuffer), Reference.gemm(d, a, b, c))
                    })
                }
            }
        }
        return cases
    }

    // MARK: Convolution

    public static let geometries: [Conv2DGeometry] = [
        Conv2DGeometry(batch: 1, height: 5, width: 5, inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 2, height: 7, width: 6, inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: .same),
        Conv2DGeometry(batch: 2, height: 8, width: 8, inChannels: 3, outChannels: 4, kernel: 5, stride: 2, padding: .valid),
        Conv2DGeometry(batch: 1, height: 9, width: 9, inChannels: 2, outChannels: 5, kernel: 5, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 7, width: 7, inChannels: 4, outChannels: 5, kernel: 7, stride: 1, padding: .valid),
        Conv2DGeometry(batch: 3, height: 5, width: 5, inChannels: 3, outChannels: 2, kernel: 1, stride: 1, padding: .valid),
        Conv2DGeometry(batch: 1, height: 6, width: 5, inChannels: 2, outChannels: 3, kernelHeight: 3, kernelWidth: 2,
            strideY: 2, strideX: 1, padTop: 0, padBottom: 2, padLeft: 1, padRight: 0),
        Conv2DGeometry(batch: 2, height: 4, width: 4, inChannels: 17, outChannels: 33, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 3, height: 6, width: 5, inChannels: 37, outChannels: 1, kernel: 5, stride: 1, padding: .same),
        // implicit-GEMM path (kw·C ≥ 64, ≥ 16 outputs): partial 8-pixel tiles, a partial second panel
        Conv2DGeometry(batch: 2, height: 9, width: 11, inChannels: 24, outChannels: 40, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 10, width: 9, inChannels: 16, outChannels: 20, kernel: 5, stride: 2, padding: .valid),
        Conv2DGeometry(batch: 2, height: 7, width: 13, inChannels: 32, outChannels: 32, kernel: 4, stride: 2, padding: .same),
        Conv2DGeometry(batch: 1, height: 7, width: 7, inChannels: 16, outChannels: 3, kernel: 3, stride: 2, padding: .valid),
        // short kernel rows (kw·C < 64): all kernel rows in one micro-kernel call; gathered filter-gradient panels
        Conv2DGeometry(batch: 2, height: 9, width: 10, inChannels: 1, outChannels: 16, kernel: 5, stride: 1, padding: .same),
        Conv2DGeometry(batch: 2, height: 8, width: 7, inChannels: 3, outChannels: 24, kernel: 3, stride: 2, padding: .same),
        // CPU filter gradient read in place (kw·C a multiple of 8, 32·k output channels): more
        // images than parts, two panels, one output row per call
        Conv2DGeometry(batch: 9, height: 6, width: 5, inChannels: 8, outChannels: 32, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 3, width: 70, inChannels: 8, outChannels: 64, kernel: 3, stride: 1, padding: .same),
        // CPU Winograd: F(2×2, 5×5) and F(3×3, 4×4) with clipped edge tiles, two panels, 'valid'
        // padding; the 4×4 case's backward-data (64 → 32 channels, flipped) takes it too
        Conv2DGeometry(batch: 2, height: 7, width: 9, inChannels: 16, outChannels: 32, kernel: 5, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 8, width: 7, inChannels: 32, outChannels: 64, kernel: 4, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 9, width: 8, inChannels: 16, outChannels: 32, kernel: 5, stride: 1, padding: .valid),
        // larger maps: F(2×2, 5×5) with two panels; F(5×5, 4×4) (4×4 kernels on maps of 12 and
        // more) with clipped edge tiles
        Conv2DGeometry(batch: 2, height: 13, width: 15, inChannels: 16, outChannels: 64, kernel: 5, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 13, width: 12, inChannels: 16, outChannels: 32, kernel: 4, stride: 1, padding: .same),
        // F(4×4, 3×3) forward, flipped backward-data and F(3×3, 4×4) filter gradient, with clipped
        // edge tiles and 'valid' padding
        Conv2DGeometry(batch: 2, height: 9, width: 7, inChannels: 32, outChannels: 32, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 10, width: 11, inChannels: 16, outChannels: 64, kernel: 3, stride: 1, padding: .valid),
        // the reference VAE's dec4 at batch 1: Winograd's error at full depth (5·5·64 terms)
        Conv2DGeometry(batch: 1, height: 14, width: 14, inChannels: 64, outChannels: 32, kernel: 5, stride: 1, padding: .same),
        // more than 64 taps: OpenCL takes the tiled pass even with few channels
        Conv2DGeometry(batch: 1, height: 9, width: 10, inChannels: 2, outChannels: 3, kernel: 9, stride: 1, padding: .same),
        // PixelCNN++'s shifted convolutions and up-sampling deconvs
        .downShifted(batch: 2, height: 6, width: 7, inChannels: 3, outChannels: 4),
        .downShifted(batch: 1, height: 8, width: 6, inChannels: 5, outChannels: 3, stride: 2),
        .downRightShifted(batch: 2, height: 5, width: 6, inChannels: 4, outChannels: 3),
        .downRightShifted(batch: 1, height: 6, width: 8, inChannels: 2, outChannels: 9, stride: 2),
        .shiftedTransposed(batch: 2, inHeight: 3, inWidth: 4, inChannels: 5, outChannels: 3, kernelHeight: 2, kernelWidth: 3,
            stride: 2, rightShifted: false),
        .shiftedTransposed(batch: 1, inHeight: 4, inWidth: 3, inChannels: 3, outChannels: 4, kernelHeight: 2, kernelWidth: 2,
            stride: 2, rightShifted: true),
        // strided backward-data by phases, including phases no tap reaches (kernel 1, stride 2)
        Conv2DGeometry(batch: 2, height: 9, width: 8, inChannels: 20, outChannels: 8, kernel: 3, stride: 3, padding: .same),
        Conv2DGeometry(batch: 1, height: 6, width: 7, inChannels: 16, outChannels: 8, kernel: 1, stride: 2, padding: .same),
        // direct narrow loops in blocks of 8 pixels: a row's last block overlapping the one before,
        // kernel rows with a scalar tail, several output channels, stride 2; filter-gradient
        // kernel rows of 8 vectors and more
        Conv2DGeometry(batch: 2, height: 7, width: 11, inChannels: 24, outChannels: 3, kernel: 3, stride: 1, padding: .same),
        Conv2DGeometry(batch: 1, height: 17, width: 19, inChannels: 16, outChannels: 2, kernel: 3, stride: 2, padding: .same),
        Conv2DGeometry(batch: 2, height: 9, width: 10, inChannels: 32, outChannels: 1, kernel: 5, stride: 1, padding: .same),
        // direct narrow loops with a kernel row of exactly one vector
        Conv2DGeometry(batch: 2, height: 5, width: 6, inChannels: 8, outChannels: 2, kernel: 2, stride: 1, padding: .same),
        // HIT's c = 16 layers (CPUConvSixteen): 6-row tiles over pixels of several images (4×4 and
        // 7×7 maps, blocks of images, a partial last block), unpadded inputs read in place, phases
        // onto 16 channels and onto 1 (dot products), 1-channel filter gradients
        .pytorch(batch: 2, height: 28, width: 28, inChannels: 1, outChannels: 16, kernel: 4, stride: 2, padding: 1),
        .pytorch(batch: 3, height: 14, width: 14, inChannels: 16, outChannels: 16, kernel: 4, stride: 2, padding: 1),
        .pytorch(batch: 10, height: 7, width: 7, inChannels: 16, outChannels: 16, kernel: 4, stride: 1, padding: 0),
        .pytorch(batch: 9, height: 4, width: 4, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1),
        Conv2DGeometry(batch: 2, height: 9, width: 11, inChannels: 16, outChannels: 32, kernel: 3, stride: 2, padding: .same),
        Conv2DGeometry(batch: 1, height: 9, width: 9, inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: .same),
        .transposed(batch: 2, inHeight: 4, inWidth: 4, inChannels: 3, outChannels: 2, kernel: 5, stride: 2, padding: .same),
        .transposed(batch: 1, inHeight: 5, inWidth: 5, inChannels: 2, outChannels: 3, kernel: 4, stride: 1, padding: .same),
        .transposed(batch: 2, inHeight: 1, inWidth: 1, inChannels: 4, outChannels: 3, kernel: 3, stride: 1, padding: .valid),
        .transposed(batch: 1, inHeight: 3, inWidth: 3, inChannels: 2, outChannels: 2, kernel: 3, stride: 2, padding: .valid),
    ]

    public static var convCases: [ParityCase] {
        geometries.enumerated().flatMap { index, g in
            [
                ParityCase(.conv2dForward, name: "conv forward \(g)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(100 + index))
                    let input = data.values(g.inputCount), filter = data.values(g.filterCount)
                    let output = try backend.makeBuffer(count: g.outputCount)
                    try backend.conv2dForward(g, input: try backend.makeBuffer(input), filter: try backend.makeBuffer(filter),
                        output: output)
                    return (try backend.download(output), Reference.convForward(g, input, filter))
                },
                ParityCase(.conv2dBackwardData, name: "conv backward-data \(g)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(200 + index))
                    let gradOut = data.values(g.outputCount), filter = data.values(g.filterCount)
                    let gradIn = try backend.makeBuffer(data.values(g.inputCount))  // overwritten, not accumulated
                    try backend.conv2dBackwardData(g, gradOutput: try backend.makeBuffer(gradOut),
                        filter: try backend.makeBuffer(filter), gradInput: gradIn)
                    return (try backend.download(gradIn), Reference.convBackwardData(g, gradOut, filter))
                },
                ParityCase(.conv2dBackwardFilter, name: "conv backward-filter \(g)", tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(300 + index))
                    let input = data.values(g.inputCount), gradOut = data.values(g.outputCount)
                    let gradFilter = try backend.makeBuffer(data.values(g.filterCount))
                    try backend.conv2dBackwardFilter(g, input: try backend.makeBuffer(input),
                        gradOutput: try backend.makeBuffer(gradOut), gradFilter: gradFilter)
                    return (try backend.download(gradFilter), Reference.convBackwardFilter(g, input, gradOut))
                },
            ]
        }
    }

    /// ``Backend/conv2dFused(_:pass:input:filter:epilogue:output:)`` on every conv geometry:
    /// the forward pass with one epilogue and the backward-data pass with the other, taking
    /// turns, against the reference pass and the epilogue in Double. The gate's activation is
    /// host data (half of it zero), so no element lies at a ReLU's edge.
    public static var fusedConvCases: [ParityCase] {
        geometries.enumerated().flatMap { index, g in
            Conv2DImagePass.allCases.map { pass in
                let gate = (index + (pass == .forward ? 0 : 1)) % 2 == 1
                return ParityCase(.conv2dFused, name: "conv \(pass) + \(gate ? "ReLU gate" : "bias ReLU") \(g)",
                    tolerance: accumulating) { backend in
                    var data = TestData(seed: UInt64(400 + 2 * index + (pass == .forward ? 0 : 1)))
                    let (inCount, outCount) = pass.counts(g)
                    let channels = pass.outputChannels(g)
                    let input = data.values(inCount), filter = data.values(g.filterCount)
                    let operand = gate ? data.values(outCount).map { max($0, 0) } : data.values(channels)
                    let output = try backend.makeBuffer(data.values(outCount))  // overwritten
                    let operandBuffer = try backend.makeBuffer(operand)
                    try backend.conv2dFused(g, pass: pass, input: try backend.makeBuffer(input),
                        filter: try backend.makeBuffer(filter),
                        epilogue: gate ? .reluGate(activation: operandBuffer) : .biasReLU(bias: operandBuffer), output: output)
                    let plain = pass == .forward ? Reference.convForward(g, input, filter)
                        : Reference.convBackwardData(g, input, filter)
                    let expected = plain.indices.map { i in
                        gate ? (operand[i] > 0 ? plain[i] : 0) : max(plain[i] + Double(operand[i % channels]), 0)
                    }
                    return (try backend.download(output), expected)
                }
            }
        }
    }

    // MARK: Bias

    public static var biasCases: [ParityCase] {
        // 1100 rows: the CPU adds 512-row partial sums
        [(1, 1), (7, 5), (300, 33), (1100, 3)].flatMap { rows, channels in
            [
                ParityCase(.biasAdd, name: "biasAdd \(rows)x\(channels)", tolerance: elementwise) { backend in
                    var data = TestData(seed: 7)
                    let x = data.values(rows * channels), bias = data.values(channels)
                    let out = try backend.makeBuffer(count: x.count)
                    try backend.biasAdd(try backend.makeBuffer(x), bias: try backend.makeBuffer(bias), output: out)
                    return (try backend.download(out), x.indices.map { Double(x[$0]) + Double(bias[$0 % channels]) })
                },
                ParityCase(.biasReLU, name: "biasReLU \(rows)x\(channels)", tolerance: elementwise) { backend in
                    var data = TestData(seed: 9)
                    let x = data.values(rows * channels), bias = data.values(channels)
                    let out = try backend.makeBuffer(count: x.count)
                    try backend.biasReLU(try backend.makeBuffer(x), bias: try backend.makeBuffer(bias), output: out)
                    return (try backend.download(out), x.indices.map { max(Double(x[$0]) + Double(bias[$0 % channels]), 0) })
                },
                ParityCase(.biasReLUBackward, name: "biasReLUBackward input \(rows)x\(channels)", tolerance: 0) { backend in
                    var data = TestData(seed: 10)
                    let y = data.values(rows * channels).map { max($0, 0) }, g = data.values(rows * channels)
                    let (gx, gb) = (try backend.makeBuffer(count: y.count), try backend.makeBuffer(count: channels))
                    try backend.biasReLUBackward(output: try backend.makeBuffer(y), gradOutput: try backend.makeBuffer(g),
                        gradInput: gx, gradBias: gb)
                    return (try backend.download(gx), y.indices.map { y[$0] > 0 ? Double(g[$0]) : 0 })
                },
                ParityCase(.biasReLUBackward, name: "biasReLUBackward bias \(rows)x\(channels)", tolerance: accumulating) { backend in
                    var data = TestData(seed: 11)
                    let y = data.values(rows * channels).map { max($0, 0) }, g = data.values(rows * channels)
                    let (gx, gb) = (try backend.makeBuffer(count: y.count), try backend.makeBuffer(count: channels))
                    try backend.biasReLUBackward(output: try backend.makeBuffer(y), gradOutput: try backend.makeBuffer(g),
                        gradInput: gx, gradBias: gb)
                    let masked = y.indices.map { y[$0] > 0 ? g[$0] : 0 }
                    return (try backend.download(gb), try Reference.reduce(.sum, masked, shape: [rows, channels], axes: [0]))
                },
                ParityCase(.biasGradient, name: "biasGradient \(rows)x\(channels)", tolerance: accumulating) { backend in
                    var data = TestData(seed: 8)
                    let g = data.values(rows * channels)
                    let out = try backend.makeBuffer(count: channels)
                    try backend.biasGradient(try backend.makeBuffer(g), gradBias: out)
                    return (try backend.download(out), try Reference.reduce(.sum, g, shape: [rows, channels], axes: [0]))
                },
            ]
        }
    }

    // MARK: Unary

    public static func unaryInputs(_ op: UnaryOp, count: Int, seed: UInt64) -> [Float] {
        var data = TestData(seed: seed)
        switch op {
        case .log, .sqrt: return data.values(count, in: 0.05...5)
        case .exp: return data.values(count, in: -8...8)
        default: return data.values(count, in: -12...12)
        }
    }

    public static var unaryCases: [ParityCase] {
        UnaryOp.allCases.flatMap { op in
            [1, 1001].flatMap { n in
                [
                    ParityCase(.unary, name: "unary \(op) n=\(n)", tolerance: elementwise) { backend in
                        let x = unaryInputs(op, count: n, seed: 11)
                        let y = try backend.makeBuffer(count: n)
                        try backend.unary(op, try backend.makeBuffer(x), output: y)
                        return (try backend.download(y), x.map { Reference.unary(op, Double($0)) })
                    },
                    ParityCase(.unaryBackward, name: "unaryBackward \(op) n=\(n)", tolerance: elementwise) { backend in
                        let x = unaryInputs(op, count: n, seed: 12)
                        var data = TestData(seed: 13)
                        let gy = data.values(n)
                        let gx = try backend.makeBuffer(count: n)
                        try backend.unaryBackward(op, x: try backend.makeBuffer(x), gradOutput: try backend.makeBuffer(gy),
                            gradInput: gx)
                        return (try backend.download(gx), x.indices.map { Reference.derivative(op, Double(x[$0])) * Double(gy[$0]) })
                    },
                ]
            }
        }
    }

    // MARK: Binary

    public static var binaryCases: [ParityCase] {
        let shapes: [([Int], [Int])] = [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [5]),
            ([5, 1, 3], [1, 4, 1]), ([7], [1]), ([], [2, 2]), ([2, 1, 1, 1, 1, 1, 1, 3], [2, 1, 1, 1, 1, 1, 1])]
        return BinaryOp.allCases.flatMap { op in
            shapes.map { aShape, bShape in
                ParityCase(.binary, name: "binary \(op) \(aShape) \(bShape)", tolerance: elementwise) { backend in
                    var data = TestData(seed: 21)
                    let a = data.values(Broadcast.count(aShape))
                    let b = op == .div ? data.values(Broadcast.count(bShape), in: 0.5...2) : data.values(Broadcast.count(bShape))
                    let out = try backend.makeBuffer(count: Broadcast.count(try Broadcast.shape(aShape, bShape)))
                    try backend.binary(op, try backend.makeBuffer(a), shape: aShape, try backend.makeBuffer(b), shape: bShape,
                        output: out)
                    return (try backend.download(out), try Reference.binary(op, a, aShape, b, bShape))
                }
            }
        }
    }

    // MARK: Reductions

    public static var reduceCases: [ParityCase] {
        let shapes: [([Int], [Int])] = [([2, 3, 4], [0]), ([2, 3, 4], [1]), ([2, 3, 4], [2]), ([2, 3, 4], [0, 2]),
            ([2, 3, 4], [0, 1, 2]), ([2, 3, 4], []), ([7], [0]), ([1, 5, 3], [1]), ([64, 300], [1]), ([300, 64], [0]),
            ([3, 1, 2, 5], [1, 3]), ([3, 5, 300], [1])]
        return ReduceOp.allCases.flatMap { op in
            shapes.map { shape, axes in
                ParityCase(.reduce, name: "reduce \(op) \(shape) axes \(axes)", tolerance: accumulating) { backend in
                    var data = TestData(seed: 31)
                    let x = data.values(Broadcast.count(shape))
                    let out = try backend.makeBuffer(count: Broadcast.count(try Broadcast.reducedShape(shape, axes: axes)))
                    try backend.reduce(op, try backend.makeBuffer(x), shape: shape, axes: axes, output: out)
                    return (try backend.download(out), try Reference.reduce(op, x, shape: shape, axes: axes))
                }
            }
        }
    }

    // MARK: Losses

    public static var lossCases: [ParityCase] {
        [(1, 1), (3, 784), (100, 7)].flatMap { rows, columns in
            [
                ParityCase(.bernoulliNLL, name: "bernoulliNLL \(rows)x\(columns)", tolerance: accumulating) { backend in
                    var data = TestData(seed: 41)
                    let logits = data.values(rows * columns, in: -30...30)
                    let targets = data.values(rows * columns, in: 0...1).map { $0.rounded() }
                    let out = try backend.makeBuffer(count: rows)
                    try backend.bernoulliNLL(logits: try backend.makeBuffer(logits), targets: try backend.makeBuffer(targets),
                        rows: rows, output: out)
                    return (try backend.download(out), Reference.bernoulliNLL(logits, targets, rows: rows))
                },
                ParityCase(.bernoulliNLLBackward, name: "bernoulliNLLBackward \(rows)x\(columns)", tolerance: elementwise) { backend in
                    var data = TestData(seed: 42)
                    let logits = data.values(rows * columns, in: -30...30)
                    let targets = data.values(rows * columns, in: 0...1)
                    let g = data.values(rows)
                    let out = try backend.makeBuffer(count: logits.count)
                    try backend.bernoulliNLLBackward(logits: try backend.makeBuffer(logits),
                        targets: try backend.makeBuffer(targets), gradOutput: try backend.makeBuffer(g), gradLogits: out)
                    let ref = logits.indices.map { (Reference.sigmoid(Double(logits[$0])) - Double(targets[$0])) * Double(g[$0 / columns]) }
                    return (try backend.download(out), ref)
                },
                ParityCase(.gaussianKL, name: "gaussianKL \(rows)x\(columns)", tolerance: accumulating) { backend in
                    var data = TestData(seed: 43)
                    let mean = data.values(rows * columns, in: -3...3), scale = data.values(rows * columns, in: 0.05...3)
                    let out = try backend.makeBuffer(count: rows)
                    try backend.gaussianKL(mean: try backend.makeBuffer(mean), scale: try backend.makeBuffer(scale), rows: rows,
                        output: out)
                    return (try backend.download(out), Reference.gaussianKL(mean, scale, rows: rows))
                },
                ParityCase(.gaussianKLBackward, name: "gaussianKLBackward \(rows)x\(columns)", tolerance: elementwise) { backend in
                    var data = TestData(seed: 44)
                    let mean = data.values(rows * columns, in: -3...3), scale = data.values(rows * columns, in: 0.05...3)
                    let g = data.values(rows)
                    let gm = try backend.makeBuffer(count: mean.count), gs = try backend.makeBuffer(count: mean.count)
                    try backend.gaussianKLBackward(mean: try backend.makeBuffer(mean), scale: try backend.makeBuffer(scale),
                        gradOutput: try backend.makeBuffer(g), gradMean: gm, gradScale: gs)
                    let refMean = mean.indices.map { Double(mean[$0]) * Double(g[$0 / columns]) }
                    let refScale = scale.indices.map { (Double(scale[$0]) - 1 / Double(scale[$0])) * Double(g[$0 / columns]) }
                    return (try backend.download(gm) + backend.download(gs), refMean + refScale)
                },
            ]
        }
    }

    /// Inputs of the two-Gaussian KL: q and p drawn independently, or p = q (`same`).
    public static func klPairInputs(_ count: Int, seed: UInt64, same: Bool = false) -> (mq: [Float], sq: [Float], mp: [Float], sp: [Float]) {
        var data = TestData(seed: seed)
        let mq = data.values(count, in: -3...3), sq = data.values(count, in: 0.05...3)
        if same { return (mq, sq, mq, sq) }
        return (mq, sq, data.values(count, in: -3...3), data.values(count, in: 0.05...3))
    }

    /// The KL between two diagonal Gaussians: one column, a 256- and a 1000-wide row (more
    /// than a work-group), a batch of narrow rows, and q = p, where KL and every gradient are 0.
    public static var klPairCases: [ParityCase] {
        [(1, 1), (7, 1), (3, 256), (2, 1000), (100, 7)].flatMap { rows, columns in
            [
                ParityCase(.gaussianKLPair, name: "gaussianKLPair \(rows)x\(columns)", tolerance: accumulating) { backend in
                    let (mq, sq, mp, sp) = klPairInputs(rows * columns, seed: 45)
                    let out = try backend.makeBuffer(count: rows)
                    try backend.gaussianKLPair(meanQ: try backend.makeBuffer(mq), scaleQ: try backend.makeBuffer(sq),
                        meanP: try backend.makeBuffer(mp), scaleP: try backend.makeBuffer(sp), rows: rows, output: out)
                    return (try backend.download(out), Reference.gaussianKLPair(mq, sq, mp, sp, rows: rows))
                },
                ParityCase(.gaussianKLPairBackward, name: "gaussianKLPairBackward \(rows)x\(columns)", tolerance: elementwise) { backend in
                    let (mq, sq, mp, sp) = klPairInputs(rows * columns, seed: 46)
                    var data = TestData(seed: 47)
                    let g = data.values(rows)
                    let grads = try (0..<4).map { _ in try backend.makeBuffer(count: mq.count) }
                    try backend.gaussianKLPairBackward(meanQ: try backend.makeBuffer(mq), scaleQ: try backend.makeBuffer(sq),
                        meanP: try backend.makeBuffer(mp), scaleP: try backend.makeBuffer(sp), gradOutput: try backend.makeBuffer(g),
                        gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2], gradScaleP: grads[3])
                    return (try grads.flatMap { try backend.download($0) }, Reference.gaussianKLPairBackward(mq, sq, mp, sp, g))
                },
            ]
        } + [(1, 1), (3, 256), (100, 7)].flatMap { rows, columns in
            // Against exact zeros the NMSE's floor (1e-30) leaves no room: the op must give 0.
            [
                ParityCase(.gaussianKLPair, name: "gaussianKLPair q=p \(rows)x\(columns)", tolerance: accumulating) { backend in
                    let (mq, sq, mp, sp) = klPairInputs(rows * columns, seed: 48, same: true)
                    let out = try backend.makeBuffer(count: rows)
                    try backend.gaussianKLPair(meanQ: try backend.makeBuffer(mq), scaleQ: try backend.makeBuffer(sq),
                        meanP: try backend.makeBuffer(mp), scaleP: try backend.makeBuffer(sp), rows: rows, output: out)
                    return (try backend.download(out), [Double](repeating: 0, count: rows))
                },
                ParityCase(.gaussianKLPairBackward, name: "gaussianKLPairBackward q=p \(rows)x\(columns)", tolerance: elementwise) { backend in
                    let (mq, sq, mp, sp) = klPairInputs(rows * columns, seed: 49, same: true)
                    var data = TestData(seed: 50)
                    let g = data.values(rows)
                    let grads = try (0..<4).map { _ in try backend.makeBuffer(count: mq.count) }
                    try backend.gaussianKLPairBackward(meanQ: try backend.makeBuffer(mq), scaleQ: try backend.makeBuffer(sq),
                        meanP: try backend.makeBuffer(mp), scaleP: try backend.makeBuffer(sp), gradOutput: try backend.makeBuffer(g),
                        gradMeanQ: grads[0], gradScaleQ: grads[1], gradMeanP: grads[2], gradScaleP: grads[3])
                    return (try grads.flatMap { try backend.download($0) }, [Double](repeating: 0, count: 4 * mq.count))
                },
            ]
        }
    }

    /// Inputs of the AR(1)-prior KL `[rows, steps, dimensions]`: α in (−0.95, 0.95) per dimension.
    public static func ar1KLInputs(rows: Int, steps: Int, dimensions: Int, seed: UInt64) -> (mean: [Float], scale: [Float],
        alpha: [Float]) {
        var data = TestData(seed: seed)
        let count = rows * steps * dimensions
        return (data.values(count, in: -3...3), data.values(count, in: 0.05...3), data.values(dimensions, in: -0.95...0.95))
    }

    /// The AR(1)-prior KL (rows, steps, dimensions): one step (no shift), two steps, odd
    /// sizes, MNIST's 28 rows, and a row of 32 × 64 elements (more than a work-group).
    public static var ar1KLCases: [ParityCase] {
        [(1, 1, 1), (5, 1, 3), (5, 2, 3), (5, 7, 3), (3, 28, 8), (2, 32, 64)].flatMap { rows, steps, dimensions in
            [
                ParityCase(.ar1KL, name: "ar1KL \(rows)x\(steps)x\(dimensions)", tolerance: accumulating) { backend in
                    let (mean, scale, alpha) = ar1KLInputs(rows: rows, steps: steps, dimensions: dimensions, seed: 52)
                    let out = try backend.makeBuffer(count: rows)
                    try backend.ar1KL(mean: try backend.makeBuffer(mean), scale: try backend.makeBuffer(scale),
                        alpha: try backend.makeBuffer(alpha), rows: rows, output: out)
                    return (try backend.download(out), Reference.ar1KL(mean, scale, alpha, rows: rows))
                },
                ParityCase(.ar1KLBackward, name: "ar1KLBackward \(rows)x\(steps)x\(dimensions)", tolerance: elementwise) { backend in
                    let (mean, scale, alpha) = ar1KLInputs(rows: rows, steps: steps, dimensions: dimensions, seed: 53)
                    var data = TestData(seed: 54)
                    let g = data.values(rows)
                    let gm = try backend.makeBuffer(count: mean.count), gs = try backend.makeBuffer(count: mean.count)
                    try backend.ar1KLBackward(mean: try backend.makeBuffer(mean), scale: try backend.makeBuffer(scale),
                        alpha: try backend.makeBuffer(alpha), gradOutput: try backend.makeBuffer(g), gradMean: gm, gradScale: gs)
                    return (try backend.download(gm) + backend.download(gs), Reference.ar1KLBackward(mean, scale, alpha, g))
                },
            ]
        }
    }

    // MARK: Adam

    public static var adamCases: [ParityCase] {
        [AdamParameters(learningRate: 1e-2), AdamParameters(learningRate: 3e-4, beta1: 0.8, beta2: 0.95, epsilon: 1e-6,
            weightDecay: 0.1)].enumerated().map { index, h in
            ParityCase(.adamStep, name: "adam three steps #\(index)", tolerance: elementwise) { backend in
                var data = TestData(seed: 51)
                let n = 257
                var p = data.values(n).map(Double.init)
                let start = p.map(Float.init)
                let grads = (0..<3).map { _ in data.values(n) }
                let param = try backend.makeBuffer(start)
                let m1 = try backend.makeBuffer(count: n), m2 = try backend.makeBuffer(count: n)
                try backend.fill(m1, with: 0)
                try backend.fill(m2, with: 0)
                var m = [Double](repeating: 0, count: n), v = m
                let b1 = Double(h.beta1), b2 = Double(h.beta2)
                for (t, g) in grads.enumerated() {
                    try backend.adamStep(h, step: t + 1, parameter: param, gradient: try backend.makeBuffer(g),
                        firstMoment: m1, secondMoment: m2)
                    for i in 0..<n {
                        let gi = Double(g[i]) + Double(h.weightDecay) * p[i]
                        // state is stored in fp32 between steps, as on every backend
                        m[i] = Double(Float(b1 * m[i] + (1 - b1) * gi))
                        v[i] = Double(Float(b2 * v[i] + (1 - b2) * gi * gi))
                        let mHat = m[i] / (1 - Foundation.pow(b1, Double(t + 1)))
                        let vHat = v[i] / (1 - Foundation.pow(b2, Double(t + 1)))
                        p[i] = Double(Float(p[i] - Double(h.learningRate) * mHat / (vHat.squareRoot() + Double(h.epsilon))))
                    }
                }
                // Compare the update, which is what Adam computes, rather than the parameters.
                let after = try backend.download(param)
                return (zip(after, start).map { $0 - $1 }, zip(p, start).map { $0 - Double($1) })
            }
        }
    }
}
