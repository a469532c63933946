import RDCompute

/// A reverse-mode autodiff tape on one backend: every op records how to send gradients back
/// to its inputs, and ``backward(from:)`` replays the records in reverse. All buffers stay on
/// the device; only scalars read for logging cross to the host.
///
/// Make a new graph per training step; parameters (leaf tensors with `requiresGradient`)
/// outlive it and receive their gradients through ``gradient(of:)``.
public final class Graph: @unchecked Sendable {
    public let backend: any Backend

    struct Record {
        let output: Tensor
        let inputs: [Tensor]
        /// Given dL/d(output), the gradients for `inputs` (nil where not needed).
        let backward: (DeviceBuffer) throws -> [DeviceBuffer?]
    }

    private var records: [Record] = []
    private var gradients: [ObjectIdentifier: DeviceBuffer] = [:]
    /// Measuring graphs (``StepMemory``) follow each buffer they make, and each gradient their
    /// backward pass returns, until it is released; nil otherwise (no cost on the hot path).
    private var liveBuffers: [(buffer: WeakBuffer, bytes: Int)]?
    private var liveBytes = 0
    /// The most bytes of this graph's buffers alive at once (measuring graphs only).
    public private(set) var peakBytes = 0

    struct WeakBuffer {
        weak var buffer: DeviceBuffer?
    }

    /// A graph on `backend`; with `measuringMemory`, it keeps ``peakBytes``.
    public init(backend: any Backend, measuringMemory: Bool = false) {
        self.backend = backend
        if measuringMemory { liveBuffers = [] }
    }

    /// Adds a buffer to the live set of a measuring graph, dropping those released since.
    private func measure(_ buffer: DeviceBuffer) {
        guard var live = liveBuffers else { return }
        liveBuffers = nil  // a unique reference: the filter below does not copy
        live.removeAll { entry in
            guard entry.buffer.buffer == nil else { return false }
            liveBytes -= entry.bytes
            return true
        }
        // A backward rule may hand its incoming gradient on as it is: count each buffer once.
        if !live.contains(where: { $0.buffer.buffer === buffer }) {
            live.append((WeakBuffer(buffer: buffer), buffer.byteCount))
            liveBytes += buffer.byteCount
            peakBytes = max(peakBytes, liveBytes)
        }
        liveBuffers = live
    }

    // MARK: Making tensors

    /// A constant tensor from host values.
    public func constant(_ values: [Float], shape: [Int]) throws -> Tensor {
        guard Broadcast.count(shape) == values.count else {
            throw ComputeError.invalidArgument(op: "constant", reason: "\(values.count) values for shape \(shape)")
        }
        let buffer = try backend.makeBuffer(values)
        measure(buffer)
        return Tensor(shape: shape, buffer: buffer)
    }

    /// A tensor filled with one value.
    public func filled(_ value: Float, shape: [Int]) throws -> Tensor {
        let values = try buffer(count: Broadcast.count(shape))
        try backend.fill(values, with: value)
        return Tensor(shape: shape, buffer: values)
    }

    /// An uninitialised buffer for an op's output.
    func output(_ shape: [Int]) throws -> DeviceBuffer { try buffer(count: Broadcast.count(shape)) }

    /// An uninitialised buffer of `count` floats (counted by a measuring graph).
    func buffer(count: Int) throws -> DeviceBuffer {
        let buffer = try backend.makeBuffer(count: count)
        measure(buffer)
        return buffer
    }

    /// Records `output = f(inputs)` when any input needs a gradient, and returns the tensor.
    func record(_ shape: [Int], _ buffer: DeviceBuffer, inputs: [Tensor],
        backward: @escaping (DeviceBuffer) throws -> [DeviceBuffer?]) -> Tensor {
        let needsGradient = inputs.contains { $0.requiresGradient }
        let tensor = Tensor(shape: shape, buffer: buffer, requiresGradient: needsGradient)
        if needsGradient { records.append(Record(output: tensor, inputs: inputs, backward: backward)) }
        return tensor
    }

    // MARK: Backward

    /// Back-propagates from a scalar (one-element) tensor, seeding dL/dL = 1.
    public func backward(from loss: Tensor) throws {
        guard loss.count == 1 else {
            throw ComputeError.invalidArgument(op: "backward", reason: "loss has shape \(loss.shape); reduce it to one element first")
        }
        let seed = try buffer(count: 1)
        try backend.fill(seed, with: 1)
        gradients[ObjectIdentifier(loss)] = seed
        for record in records.reversed() {
            guard let gradient = gradients[ObjectIdentifier(record.output)] else { continue }
            let inputGradients = try record.backward(gradient)
            if liveBuffers != nil { for case let g? in inputGradients { measure(g) } }
            for (input, g) in zip(record.inputs, inputGradients) where input.requiresGradient {
                guard let g else { continue }
                try accumulate(g, into: input)
            }
        }
    }

    private func accumulate(_ gradient: DeviceBuffer, into tensor: Tensor) throws {
        let key = ObjectIdentifier(tensor)
        if let existing = gradients[key] {
            let sum = try buffer(count: existing.count)
            try backend.binary(.add, existing, shape: [existing.count], gradient, shape: [gradient.count], output: sum)
            gradients[key] = sum
        } else {
            gradients[key] = gradient
        }
    }

    /// dL/d`tensor` after ``backward(from:)``, or nil when the loss does not depend on it.
    public func gradient(of tensor: Tensor) -> DeviceBuffer? { gradients[ObjectIdentifier(tensor)] }

    /// Host copy of a tensor's values (for scalars and tests).
    public func values(_ tensor: Tensor) throws -> [Float] { try backend.download(tensor.buffer) }
}
