import Foundation
import RDCompute

/// Elementwise ops on the CPU: threads over contiguous ranges; the inner loops are simple
/// enough for the compiler to vectorise where the function allows, and sigmoid and exp (the
/// gated units' cost) run 16 lanes at a time through ``SIMD16/exp(_:)``.
enum CPUElementwise {
    static let grain = 1 << 14

    /// `output = x + bias` per channel, followed by ReLU when `relu` is set: one pass either way.
    static func biasAdd(_ x: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>, count: Int, channels: Int, relu: Bool = false) {
        let rows = count / channels
        let vectorEnd = channels & ~15
        Parallel.forEachRange(rows, grain: max(1, grain / channels), BiasRows(x: x, bias: bias, output: output,
            channels: channels, vectorEnd: vectorEnd, relu: relu))
    }

    /// x + bias (then ReLU when relu is set) over a range of rows.
    struct BiasRows: ParallelLoopBody {
        let x, bias, output: UnsafeMutablePointer<Float>
        let channels, vectorEnd: Int
        let relu: Bool

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for r in range {
                let (src, dst) = (x + r &* channels, output + r &* channels)
                var c = 0
                while c < vectorEnd {
                    let v = load16(src + c) + load16(bias + c)
                    store16(relu ? v.replacing(with: 0, where: v .< 0) : v, dst + c)
                    c &+= 16
                }
                while c < channels {
                    let v = src[c] + bias[c]
                    dst[c] = relu && v < 0 ? 0 : v
                    c &+= 1
                }
            }
        }
    }

    /// The function itself, in the numerically stable forms the kernels also use.
    @inline(__always)
    static func apply(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .relu: return max(x, 0)
        case .sigmoid: return sigmoid(x)
        case .logSigmoid: return min(x, 0) - log1p(exp(-abs(x)))
        case .softplus: return max(x, 0) + log1p(exp(-abs(x)))
        case .tanh: return Foundation.tanh(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .square: return x * x
        case .sqrt: return x.squareRoot()
        }
    }

    /// The derivative f'(x).
    @inline(__always)
    static func derivative(_ op: UnaryOp, _ x: Float) -> Float {
        switch op {
        case .relu: return x > 0 ? 1 : 0
        case .sigmoid:
            let s = sigmoid(x)
            return s * (1 - s)
        case .logSigmoid: return sigmoid(-x)
        case .softplus: return sigmoid(x)
        case .tanh:
            let t = Foundation.tanh(x)
            return 1 - t * t
        case .exp: return Foundation.exp(x)
        case .log: return 1 / x
        case .square: return 2 * x
        case .sqrt: return 0.5 / x.squareRoot()
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    static func unary(_ op: UnaryOp, _ x: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count, grain: grain, Unary(op: op, x: x, output: output))
    }

    /// output = f(x) over a range of elements.
    struct Unary: ParallelLoopBody {
        let op: UnaryOp
        let x, output: UnsafeMutablePointer<Float>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            switch op {
            case .relu: for i in range { output[i] = max(x[i], 0) }
            case .square: for i in range { output[i] = x[i] * x[i] }
            case .sqrt: for i in range { output[i] = x[i].squareRoot() }
            case .sigmoid:
                forEachLanes(range, lanes: { store16(.sigmoid(load16(x + $0)), output + $0) },
                    scalar: { output[$0] = sigmoid(x[$0]) })
            case .exp:
                forEachLanes(range, lanes: { store16(.exp(load16(x + $0)), output + $0) },
                    scalar: { output[$0] = Foundation.exp(x[$0]) })
            default: for i in range { output[i] = apply(op, x[i]) }
            }
        }
    }

    static func unaryBackward(_ op: UnaryOp, x: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count, grain: grain, UnaryGradient(op: op, x: x, gradOutput: gradOutput,
            gradInput: gradInput))
    }

    /// gradInput = f'(x)·gradOutput over a range of elements.
    struct UnaryGradient: ParallelLoopBody {
        let op: UnaryOp
        let x, gradOutput, gradInput: UnsafeMutablePointer<Float>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            switch op {
            case .relu: for i in range { gradInput[i] = x[i] > 0 ? gradOutput[i] : 0 }
            case .sigmoid:
                forEachLanes(range, lanes: { i in
                    let s = SIMD16<Float>.sigmoid(load16(x + i))
                    store16(s * (1 - s) * load16(gradOutput + i), gradInput + i)
                }, scalar: { gradInput[$0] = derivative(op, x[$0]) * gradOutput[$0] })
            case .exp:
                forEachLanes(range, lanes: { store16(.exp(load16(x + $0)) * load16(gradOutput + $0), gradInput + $0) },
                    scalar: { gradInput[$0] = derivative(op, x[$0]) * gradOutput[$0] })
            default: for i in range { gradInput[i] = derivative(op, x[i]) * gradOutput[i] }
            }
        }
    }

    @inline(__always)
    static func apply(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .max: return max(a, b)
        }
    }

    /// Broadcast binary op over the output `shape` (`rank` axes): the innermost output axis is
    /// the inner loop, with stride 0 or 1 into each operand; outer indices walk an odometer
    /// over the remaining axes.
    static func binary(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ aShape: [Int],
        _ b: UnsafeMutablePointer<Float>, _ bShape: [Int], output: UnsafeMutablePointer<Float>,
        shape: UnsafeMutablePointer<Int>, rank: Int) {
        var total = 1
        for axis in 0..<rank { total *= shape[axis] }
        guard total > 0 else { return }
        // Strides live on the stack: a training step makes many small binary calls.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * rank) { buffer in
            let (sa, sb) = (buffer.baseAddress!, buffer.baseAddress! + rank)
            Broadcast.strides(of: aShape, rank: rank, into: sa)
            Broadcast.strides(of: bShape, rank: rank, into: sb)
            binary(op, a, sa, b, sb, output: output, shape: shape, rank: rank, total: total)
        }
    }

    /// The op over `total / inner` rows of the innermost axis, the operands' offsets from strides.
    private static func binary(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ sa: UnsafeMutablePointer<Int>,
        _ b: UnsafeMutablePointer<Float>, _ sb: UnsafeMutablePointer<Int>, output: UnsafeMutablePointer<Float>,
        shape: UnsafeMutablePointer<Int>, rank: Int, total: Int) {
        let inner = shape[rank - 1]
        let innerA = sa[rank - 1]
        let innerB = sb[rank - 1]
        let outer = total / inner
        Parallel.forEachRange(outer, grain: max(1, grain / inner), BroadcastRows(op: op, a: a, b: b, output: output,
            sa: sa, sb: sb, shape: shape, rank: rank, inner: inner, innerA: innerA, innerB: innerB))
    }

    /// The op over a range of rows of the innermost axis.
    struct BroadcastRows: ParallelLoopBody {
        let op: BinaryOp
        let a, b, output: UnsafeMutablePointer<Float>
        let sa, sb, shape: UnsafeMutablePointer<Int>
        let rank, inner, innerA, innerB: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            for o in range {
                var rest = o
                var offA = 0
                var offB = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    let coordinate = rest % shape[axis]
                    rest /= shape[axis]
                    offA += coordinate * sa[axis]
                    offB += coordinate * sb[axis]
                }
                let pa = a + offA
                let pb = b + offB
                let po = output + o * inner
                switch (op, innerA, innerB) {
                case (.add, 1, 1): for i in 0..<inner { po[i] = pa[i] + pb[i] }
                case (.mul, 1, 1): for i in 0..<inner { po[i] = pa[i] * pb[i] }
                default: for i in 0..<inner { po[i] = apply(op, pa[i * innerA], pb[i * innerB]) }
                }
            }
        }
    }
}

// MARK: Bias and elementwise ops on the CPU backend

extension CPUBackend {
    public func biasAdd(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        let channels = try OpValidation.biasAdd(x, bias: bias, output: output)
        CPUElementwise.biasAdd(try pointer(x), bias: try pointer(bias), output: try pointer(output),
            count: x.count, channels: channels)
    }

    public func biasGradient(_ gradOutput: DeviceBuffer, gradBias: DeviceBuffer) throws {
        let channels = try OpValidation.biasGradient(gradOutput, gradBias: gradBias)
        CPUReduce.columnSums(try pointer(gradOutput), rows: gradOutput.count / channels, columns: channels,
            output: try pointer(gradBias))
    }

    public func biasReLU(_ x: DeviceBuffer, bias: DeviceBuffer, output: DeviceBuffer) throws {
        let channels = try OpValidation.biasAdd(x, bias: bias, output: output)
        CPUElementwise.biasAdd(try pointer(x), bias: try pointer(bias), output: try pointer(output),
            count: x.count, channels: channels, relu: true)
    }

    public func biasReLUBackward(output: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer,
        gradBias: DeviceBuffer) throws {
        let channels = try OpValidation.biasReLUBackward(output: output, gradOutput: gradOutput, gradInput: gradInput,
            gradBias: gradBias)
        let (y, gy, gx) = (try pointer(output), try pointer(gradOutput), try pointer(gradInput))
        CPUReduce.columnSums(rows: output.count / channels, columns: channels, output: try pointer(gradBias),
            segments: ReLUGradientRows(y: y, gy: gy, gx: gx, channels: channels))
    }

    public func unary(_ op: UnaryOp, _ x: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.sameCount("unary \(op)", x, output)
        CPUElementwise.unary(op, try pointer(x), output: try pointer(output), count: x.count)
    }

    public func unaryBackward(_ op: UnaryOp, x: DeviceBuffer, gradOutput: DeviceBuffer, gradInput: DeviceBuffer) throws {
        try OpValidation.sameCount("unaryBackward \(op)", x, gradOutput, gradInput)
        CPUElementwise.unaryBackward(op, x: try pointer(x), gradOutput: try pointer(gradOutput),
            gradInput: try pointer(gradInput), count: x.count)
    }

    public func binary(_ op: BinaryOp, _ a: DeviceBuffer, shape aShape: [Int], _ b: DeviceBuffer, shape bShape: [Int],
        output: DeviceBuffer) throws {
        // The output shape on the stack (a scalar op, both shapes empty, runs as one element of rank 1).
        let rank = max(1, aShape.count, bShape.count)
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { shape in
            shape[0] = 1
            try OpValidation.binary(a, aShape, b, bShape, output: output, outShape: shape.baseAddress!)
            CPUElementwise.binary(op, try pointer(a), aShape, try pointer(b), bShape, output: try pointer(output),
                shape: shape.baseAddress!, rank: rank)
        }
    }
}

/// Rows of ReLU's input gradient `gx = y > 0 ? gy : 0`, written as the bias gradient sums them.
struct ReLUGradientRows: RowSegments {
    let y, gy, gx: UnsafeMutablePointer<Float>
    let channels: Int

    func segment(_ row: Int, _ firstColumn: Int, _ width: Int) -> UnsafePointer<Float> {
        let segment = row * channels + firstColumn
        for j in segment..<(segment + width) { gx[j] = y[j] > 0 ? gy[j] : 0 }
        return UnsafePointer(gx + segment)
    }
}
