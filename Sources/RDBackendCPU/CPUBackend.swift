import Foundation
import RDCompute

/// The CPU backend: every op in Swift with `SIMD16<Float>` and static threading over all
/// cores. Always available; the fallback for every other backend. Ops run synchronously.
public final class CPUBackend: Backend, @unchecked Sendable {
    public let instanceID = BackendInstanceID.next()
    public let device: DeviceDescription
    /// Every op.
    public let supportedOps = Set(Op.allCases)

    public init(device: DeviceDescription = CPUBackendFactory.hostDevice) {
        self.device = device
    }

    /// The host pointer of a buffer this backend made.
    func pointer(_ buffer: DeviceBuffer) throws -> UnsafeMutablePointer<Float> {
        try checkOwnership(buffer)
        guard let storage = buffer.storage as? CPUStorage else {
            throw ComputeError.backendMismatch(expected: displayName, found: buffer.ownerName)
        }
        return storage.pointer
    }

    // MARK: Buffers

    public func makeBuffer(count: Int) throws -> DeviceBuffer {
        guard count >= 0 else { throw ComputeError.invalidArgument(op: "makeBuffer", reason: "negative count \(count)") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow, UInt64(bytes) <= device.globalMemoryBytes else {
            throw ComputeError.outOfDeviceMemory(device: displayName, requestedBytes: overflow ? Int.max : bytes)
        }
        return DeviceBuffer(count: count, owner: instanceID, ownerName: displayName, storage: CPUStorage(count: count))
    }

    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        let p = try pointer(buffer)
        guard values.count == buffer.count else {
            throw ComputeError.invalidArgument(op: "upload", reason: "\(values.count) values for a buffer of \(buffer.count)")
        }
        values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
    }

    public func download(_ buffer: DeviceBuffer) throws -> [Float] {
        let p = try pointer(buffer)
        return Array(UnsafeBufferPointer(start: p, count: buffer.count))
    }

    public func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try OpValidation.sameCount("copy", source, destination)
        try pointer(destination).update(from: pointer(source), count: source.count)
    }

    public func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        try pointer(buffer).update(repeating: value, count: buffer.count)
    }

    public func synchronize() throws {}

    // MARK: Linear algebra and convolution

    public func gemm(_ descriptor: GemmDescriptor, a: DeviceBuffer, b: DeviceBuffer, c: DeviceBuffer) throws {
        try OpValidation.gemm(descriptor, a: a, b: b, c: c)
        CPUGemm.run(descriptor, a: try pointer(a), b: try pointer(b), c: try pointer(c))
    }

    public func conv2dForward(_ g: Conv2DGeometry, input: DeviceBuffer, filter: DeviceBuffer, output: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: filter, output: output, op: "conv2dForward")
        CPUConv.forward(g, input: try pointer(input), filter: try pointer(filter), output: try pointer(output))
    }

    public func conv2dBackwardData(_ g: Conv2DGeometry, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.conv(g, input: gradInput, filter: filter, output: gradOutput, op: "conv2dBackwardData")
        CPUConv.backwardData(g, gradOutput: try pointer(gradOutput), filter: try pointer(filter),
            gradInput: try pointer(gradInput))
    }

    public func conv2dBackwardFilter(_ g: Conv2DGeometry, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.conv(g, input: input, filter: gradFilter, output: gradOutput, op: "conv2dBackwardFilter")
        CPUConv.backwardFilter(g, input: try pointer(input), gradOutput: try pointer(gradOutput),
            gradFilter: try pointer(gradFilter))
    }

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
        CPUReduce.columnSums(rows: output.count / channels, columns: channels, output: try pointer(gradBias)) { r, j0, width in
            let segment = r * channels + j0
            for j in segment..<(segment + width) { gx[j] = y[j] > 0 ? gy[j] : 0 }
            return UnsafePointer(gx + segment)
        }
    }

    // MARK: Elementwise and reductions

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
        let outShape = try OpValidation.binary(a, aShape, b, bShape, output: output)
        CPUElementwise.binary(op, try pointer(a), aShape, try pointer(b), bShape, output: try pointer(output),
            outShape: outShape)
    }

    public func reduce(_ op: ReduceOp, _ x: DeviceBuffer, shape: [Int], axes: [Int], output: DeviceBuffer) throws {
        _ = try OpValidation.reduce(x, shape: shape, axes: axes, output: output)
        CPUReduce.reduce(op, try pointer(x), shape: shape, axes: axes, output: try pointer(output))
    }

    // MARK: Fused losses

    public func bernoulliNLL(logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("bernoulliNLL", rows: rows, logits, targets)
        try OpValidation.require(output.count >= rows, "bernoulliNLL", "output holds \(output.count) of \(rows) rows")
        CPULoss.bernoulliNLL(logits: try pointer(logits), targets: try pointer(targets), rows: rows, columns: columns,
            output: try pointer(output))
    }

    public func bernoulliNLLBackward(logits: DeviceBuffer, targets: DeviceBuffer, gradOutput: DeviceBuffer,
        gradLogits: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("bernoulliNLLBackward", rows: rows, logits, targets, gradLogits)
        CPULoss.bernoulliNLLBackward(logits: try pointer(logits), targets: try pointer(targets),
            gradOutput: try pointer(gradOutput), gradLogits: try pointer(gradLogits), rows: rows, columns: columns)
    }

    public func gaussianKL(mean: DeviceBuffer, scale: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKL", rows: rows, mean, scale)
        try OpValidation.require(output.count >= rows, "gaussianKL", "output holds \(output.count) of \(rows) rows")
        CPULoss.gaussianKL(mean: try pointer(mean), scale: try pointer(scale), rows: rows, columns: columns,
            output: try pointer(output))
    }

    public func gaussianKLBackward(mean: DeviceBuffer, scale: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("gaussianKLBackward", rows: rows, mean, scale, gradMean, gradScale)
        CPULoss.gaussianKLBackward(mean: try pointer(mean), scale: try pointer(scale),
            gradOutput: try pointer(gradOutput), gradMean: try pointer(gradMean), gradScale: try pointer(gradScale),
            rows: rows, columns: columns)
    }

    public func gaussianKLPair(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        rows: Int, output: DeviceBuffer) throws {
        let columns = try OpValidation.rows("gaussianKLPair", rows: rows, meanQ, scaleQ, meanP, scaleP)
        try OpValidation.require(output.count >= rows, "gaussianKLPair", "output holds \(output.count) of \(rows) rows")
        CPULoss.gaussianKLPair(meanQ: try pointer(meanQ), scaleQ: try pointer(scaleQ), meanP: try pointer(meanP),
            scaleP: try pointer(scaleP), rows: rows, columns: columns, output: try pointer(output))
    }

    public func gaussianKLPairBackward(meanQ: DeviceBuffer, scaleQ: DeviceBuffer, meanP: DeviceBuffer, scaleP: DeviceBuffer,
        gradOutput: DeviceBuffer, gradMeanQ: DeviceBuffer, gradScaleQ: DeviceBuffer, gradMeanP: DeviceBuffer,
        gradScaleP: DeviceBuffer) throws {
        let rows = gradOutput.count
        let columns = try OpValidation.rows("gaussianKLPairBackward", rows: rows, meanQ, scaleQ, meanP, scaleP, gradMeanQ,
            gradScaleQ, gradMeanP, gradScaleP)
        CPULoss.gaussianKLPairBackward(meanQ: try pointer(meanQ), scaleQ: try pointer(scaleQ), meanP: try pointer(meanP),
            scaleP: try pointer(scaleP), gradOutput: try pointer(gradOutput), gradMeanQ: try pointer(gradMeanQ),
            gradScaleQ: try pointer(gradScaleQ), gradMeanP: try pointer(gradMeanP), gradScaleP: try pointer(gradScaleP),
            rows: rows, columns: columns)
    }

    public func ar1KL(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, rows: Int, output: DeviceBuffer) throws {
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KL", rows: rows, alpha: alpha, mean, scale)
        try OpValidation.require(output.count >= rows, "ar1KL", "output holds \(output.count) of \(rows) rows")
        CPULoss.ar1KL(mean: try pointer(mean), scale: try pointer(scale), alpha: try pointer(alpha), rows: rows,
            steps: steps, dimensions: dimensions, output: try pointer(output))
    }

    public func ar1KLBackward(mean: DeviceBuffer, scale: DeviceBuffer, alpha: DeviceBuffer, gradOutput: DeviceBuffer,
        gradMean: DeviceBuffer, gradScale: DeviceBuffer) throws {
        let rows = gradOutput.count
        let (steps, dimensions) = try OpValidation.ar1KL("ar1KLBackward", rows: rows, alpha: alpha, mean, scale, gradMean,
            gradScale)
        CPULoss.ar1KLBackward(mean: try pointer(mean), scale: try pointer(scale), alpha: try pointer(alpha),
            gradOutput: try pointer(gradOutput), gradMean: try pointer(gradMean), gradScale: try pointer(gradScale),
            rows: rows, steps: steps, dimensions: dimensions)
    }

    // MARK: Random numbers

    public func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        CPURandom.uniform(try pointer(buffer), count: buffer.count, seed: seed, stream: stream, offset: offset)
    }

    public func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try OpValidation.randomOffset(offset)
        CPURandom.normal(try pointer(buffer), count: buffer.count, seed: seed, stream: stream, offset: offset)
    }

    // MARK: Optimisation

    public func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        try OpValidation.adam(step: step, parameter, gradient, firstMoment, secondMoment)
        CPUOptim.step(parameters, step: step, parameter: try pointer(parameter), gradient: try pointer(gradient),
            firstMoment: try pointer(firstMoment), secondMoment: try pointer(secondMoment), count: parameter.count)
    }

    // MARK: Echo noise

    public func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer {
        let buffer = try makeBuffer(count: words.count)
        let p = try pointer(buffer)
        words.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return buffer
    }

    /// The words of an index buffer.
    func words(_ buffer: DeviceBuffer) throws -> UnsafePointer<Int32> {
        UnsafeRawPointer(try pointer(buffer)).assumingMemoryBound(to: Int32.self)
    }

    public func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoForward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (z, "z"))
        CPUEcho.forward(shape, f: try pointer(f), logScale: try pointer(logScale), indices: try words(indices),
            noise: try pointer(noise), z: try pointer(z))
    }

    public func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoBackward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (gradZ, "gradZ"), (gradF, "gradF"), (gradLogScale, "gradLogScale"))
        CPUEcho.backward(shape, f: try pointer(f), logScale: try pointer(logScale), indices: try words(indices),
            noise: try pointer(noise), gradZ: try pointer(gradZ), gradF: try pointer(gradF),
            gradLogScale: try pointer(gradLogScale))
    }

    // MARK: Masked dense

    public func maskedDenseForward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedDenseForward(shape, x: x, weight: weight, bias: bias, output: output)
        CPUMaskedDense.forward(shape, x: try pointer(x), weight: try pointer(weight), bias: try pointer(bias),
            output: try pointer(output))
    }

    public func maskedDenseBackward(_ shape: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try OpValidation.maskedDenseBackward(shape, x: x, weight: weight, gradOutput: gradOutput, gradInput: gradInput,
            gradWeight: gradWeight, gradBias: gradBias)
        CPUMaskedDense.backward(shape, x: try pointer(x), weight: try pointer(weight), gradOutput: try pointer(gradOutput),
            gradInput: try pointer(gradInput), gradWeight: try pointer(gradWeight), gradBias: try pointer(gradBias))
    }

    // MARK: Masked convolution

    public func maskedConv2dForward(_ shape: MaskedConv2DShape, input: DeviceBuffer, filter: DeviceBuffer,
        output: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: filter, output: output, op: "maskedConv2dForward")
        CPUMaskedConv.forward(shape, input: try pointer(input), filter: try pointer(filter), output: try pointer(output))
    }

    public func maskedConv2dBackwardData(_ shape: MaskedConv2DShape, gradOutput: DeviceBuffer, filter: DeviceBuffer,
        gradInput: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: gradInput, filter: filter, output: gradOutput, op: "maskedConv2dBackwardData")
        CPUMaskedConv.backwardData(shape, gradOutput: try pointer(gradOutput), filter: try pointer(filter),
            gradInput: try pointer(gradInput))
    }

    public func maskedConv2dBackwardFilter(_ shape: MaskedConv2DShape, input: DeviceBuffer, gradOutput: DeviceBuffer,
        gradFilter: DeviceBuffer) throws {
        try OpValidation.maskedConv(shape, input: input, filter: gradFilter, output: gradOutput, op: "maskedConv2dBackwardFilter")
        CPUMaskedConv.backwardFilter(shape, input: try pointer(input), gradOutput: try pointer(gradOutput),
            gradFilter: try pointer(gradFilter))
    }
}
