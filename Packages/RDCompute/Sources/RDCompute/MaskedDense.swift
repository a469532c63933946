/// Sizes and connectivity of a masked dense (MADE) layer, seed-spec §3.1: output o sees
/// input i iff `outputDegrees[o] ≥ inputDegrees[i]`. Degrees must be nondecreasing (MADE's
/// deterministic block assignment), so output o sees a prefix of the inputs, `prefixes[o]`
/// long, and input i is seen by a suffix of the outputs from `firstOutputs[i]`: the kernels
/// skip the masked-out blocks instead of multiplying zeros.
///
/// Layouts: x `[batch, inputs]`, weight `[inputs, outputs]` (the ``Dense`` layout), bias
/// `[outputs]`, y `[batch, outputs]`.
public struct MaskedDenseShape: Sendable, Equatable, CustomStringConvertible {
    public let batch: Int
    public let inputs: Int
    public let outputs: Int
    /// Inputs visible to each output (nondecreasing).
    public let prefixes: [Int32]
    /// The first output that sees each input (nondecreasing; `outputs` when none does).
    public let firstOutputs: [Int32]

    public init(batch: Int, inputDegrees: [Int], outputDegrees: [Int]) throws {
        guard batch >= 1, !inputDegrees.isEmpty, !outputDegrees.isEmpty,
            zip(inputDegrees, inputDegrees.dropFirst()).allSatisfy({ $0 <= $1 }),
            zip(outputDegrees, outputDegrees.dropFirst()).allSatisfy({ $0 <= $1 }),
            OpValidation.product(batch, max(inputDegrees.count, outputDegrees.count)) != nil
        else {
            throw ComputeError.invalidArgument(op: "MaskedDenseShape",
                reason: "need batch ≥ 1 (batch × features within Int) and nonempty, nondecreasing input and output degrees")
        }
        self.batch = batch
        inputs = inputDegrees.count
        outputs = outputDegrees.count
        prefixes = outputDegrees.map { degree in Int32(inputDegrees.prefix { $0 <= degree }.count) }
        firstOutputs = inputDegrees.map { degree in Int32(outputDegrees.prefix { $0 < degree }.count) }
    }

    /// Whether output o sees input i.
    public func connects(input i: Int, output o: Int) -> Bool { i < Int(prefixes[o]) }

    /// Multiply-adds actually needed (unmasked), times 2.
    public var flops: Double { 2 * Double(batch) * Double(prefixes.reduce(0) { $0 + Int($1) }) }

    public var description: String { "B=\(batch) \(inputs)→\(outputs) (\(Int(flops / Double(2 * batch))) of \(inputs * outputs) connections)" }

    /// MADE degrees (seed-spec §3.1) for `dimensions` ordered variables: inputs 1…d.
    public static func madeInputDegrees(_ dimensions: Int) -> [Int] { (0..<dimensions).map { $0 + 1 } }

    /// Hidden units in blocks of `units / dimensions`: unit u has degree ⌊u / block⌋.
    public static func madeHiddenDegrees(units: Int, dimensions: Int) throws -> [Int] {
        guard dimensions > 0, units % dimensions == 0 else {
            throw ComputeError.invalidArgument(op: "MADE", reason: "\(units) hidden units are not divisible by \(dimensions) dimensions")
        }
        return (0..<units).map { $0 / (units / dimensions) }
    }

    /// Outputs, `perDimension` interleaved per variable: output o belongs to variable ⌊o / perDimension⌋,
    /// which sees hidden units of degree ≤ its index (inputs of smaller index only).
    public static func madeOutputDegrees(dimensions: Int, perDimension: Int) -> [Int] {
        (0..<(dimensions * perDimension)).map { $0 / perDimension }
    }
}

extension OpValidation {
    public static func maskedDenseForward(_ s: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer,
        output: DeviceBuffer) throws {
        try maskedDense(s, op: "maskedDenseForward", (x, s.batch * s.inputs, "x"), (weight, s.inputs * s.outputs, "weight"),
            (bias, s.outputs, "bias"), (output, s.batch * s.outputs, "output"))
    }

    public static func maskedDenseBackward(_ s: MaskedDenseShape, x: DeviceBuffer, weight: DeviceBuffer, gradOutput: DeviceBuffer,
        gradInput: DeviceBuffer, gradWeight: DeviceBuffer, gradBias: DeviceBuffer) throws {
        try maskedDense(s, op: "maskedDenseBackward", (x, s.batch * s.inputs, "x"), (weight, s.inputs * s.outputs, "weight"),
            (gradOutput, s.batch * s.outputs, "gradOutput"), (gradInput, s.batch * s.inputs, "gradInput"),
            (gradWeight, s.inputs * s.outputs, "gradWeight"), (gradBias, s.outputs, "gradBias"))
    }

    static func maskedDense(_ s: MaskedDenseShape, op: String, _ buffers: (DeviceBuffer, Int, String)...) throws {
        for (buffer, count, name) in buffers {
            try require(buffer.count >= count, op, "\(name) holds \(buffer.count) elements, needs \(count) for \(s)")
        }
    }
}
