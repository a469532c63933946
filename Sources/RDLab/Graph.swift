import RDCompute
import Synchronization

/// A reverse-mode autodiff tape on one backend: every op records how to send gradients back
/// to its inputs, and ``backward(from:)`` replays the records in reverse. All buffers stay on
/// the device; only scalars read for logging cross to the host.
///
/// A record holds no tensor of its own but leaves: what an op's backward rule needs it
/// captures, and nothing else, so an activation no rule needs is freed as soon as the forward
/// pass is done with it. The backward pass drops each rule once it has run, and each
/// intermediate gradient once it has been passed on, so memory falls as it goes.
///
/// Make a new graph per training step; parameters (leaf tensors with `requiresGradient`)
/// outlive it and receive their gradients through ``gradient(of:)``.
public final class Graph: @unchecked Sendable {
    public let backend: any Backend

    /// Where an input's gradient goes.
    enum GradientTarget {
        /// Nowhere: the input needs no gradient.
        case none
        /// The output of an earlier record of this graph.
        case record(Int)
        /// A leaf (or a tensor of another graph), kept until the graph ends.
        case leaf(Tensor)
    }

    /// How a record sends dL/d(output) back to its inputs.
    enum Rule {
        /// The gradients for the inputs (nil where not needed), which the graph adds to theirs.
        case local((DeviceBuffer) throws -> [DeviceBuffer?])
        /// Given also the inputs' gradients so far, their gradients after this record: a
        /// checkpointed segment continues each sum where the graph left it, so its terms are
        /// added in the order a graph that kept the segment would add them.
        case continuing((DeviceBuffer, [DeviceBuffer?]) throws -> [DeviceBuffer?])
    }

    struct Record {
        let inputs: [GradientTarget]
        /// nil once run.
        var rule: Rule?
    }

    /// A number no other graph of this process has, so that a tensor of another graph is not
    /// taken for one of this graph's records.
    private let serial = Graph.serials.wrappingAdd(1, ordering: .relaxed).oldValue
    private static let serials = Atomic<Int>(0)

    private var records: [Record] = []
    /// dL/d(output of record i), while the backward pass still needs it.
    private var recordGradients: [DeviceBuffer?] = []
    private var leafGradients: [ObjectIdentifier: DeviceBuffer] = [:]
    /// Measuring graphs (``StepMemory``) follow each buffer they make, and each gradient their
    /// backward pass returns, until it is released; nil otherwise (no cost on the hot path).
    private var liveBuffers: [(buffer: WeakBuffer, bytes: Int)]?
    private var liveBytes = 0
    /// The most bytes of this graph's buffers alive at once (measuring graphs only).
    public private(set) var peakBytes = 0
    /// The bytes alive after each buffer the graph made or received (measuring graphs only):
    /// the same model at two batch sizes makes the same buffers in the same order.
    public private(set) var liveBytesHistory: [Int] = []

    struct WeakBuffer {
        weak var buffer: DeviceBuffer?
    }

    /// Whether checkpointed segments (``checkpointed(_:parameters:_:)``) keep their activations.
    public let activations: ActivationMemory
    /// False for a graph that only computes (a segment's forward pass under recomputation):
    /// nothing is recorded, so nothing is kept for a backward pass.
    private let recording: Bool
    /// The graph a segment's own graph runs for: its buffers count in that graph's memory.
    private let parent: Graph?

    /// A graph on `backend`; with `measuringMemory`, it keeps ``peakBytes``.
    public init(backend: any Backend, measuringMemory: Bool = false, activations: ActivationMemory = .kept) {
        self.backend = backend
        self.activations = activations
        recording = true
        parent = nil
        if measuringMemory { liveBuffers = [] }
    }

    /// A graph for a segment of `parent`'s step, recording or not.
    init(segmentOf parent: Graph, recording: Bool) {
        backend = parent.backend
        activations = .kept
        self.recording = recording
        self.parent = parent
    }

    /// Adds a buffer to the live set of a measuring graph, dropping those released since.
    private func measure(_ buffer: DeviceBuffer) {
        if let parent { return parent.measure(buffer) }
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
        liveBytesHistory.append(liveBytes)
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
    /// `backward` is given dL/d(output) and must capture only what it reads.
    func record(_ shape: [Int], _ buffer: DeviceBuffer, inputs: [Tensor],
        backward: @escaping (DeviceBuffer) throws -> [DeviceBuffer?]) -> Tensor {
        record(shape, buffer, inputs: inputs, rule: .local(backward))
    }

    func record(_ shape: [Int], _ buffer: DeviceBuffer, inputs: [Tensor], rule: Rule) -> Tensor {
        guard recording, inputs.contains(where: \.requiresGradient) else { return Tensor(shape: shape, buffer: buffer) }
        let origin = TapeOrigin(tape: serial, record: records.count)
        records.append(Record(inputs: inputs.map(target), rule: rule))
        recordGradients.append(nil)
        return Tensor(shape: shape, buffer: buffer, requiresGradient: true, origin: origin)
    }

    private func target(_ tensor: Tensor) -> GradientTarget {
        guard tensor.requiresGradient else { return .none }
        if let origin = tensor.origin, origin.tape == serial { return .record(origin.record) }
        return .leaf(tensor)
    }

    // MARK: Backward

    /// Back-propagates from a scalar (one-element) tensor, seeding dL/dL = 1.
    public func backward(from loss: Tensor) throws {
        guard loss.count == 1 else {
            throw ComputeError.invalidArgument(op: "backward", reason: "loss has shape \(loss.shape); reduce it to one element first")
        }
        let seed = try buffer(count: 1)
        try backend.fill(seed, with: 1)
        try backward(from: loss, seed: seed)
    }

    /// Back-propagates `seed` = dL/d`output` (of `output`'s size).
    func backward(from output: Tensor, seed: DeviceBuffer) throws {
        try accumulate(seed, into: target(output))
        for index in records.indices.reversed() {
            guard let rule = records[index].rule else { continue }
            records[index].rule = nil
            guard let gradient = recordGradients[index] else { continue }
            recordGradients[index] = nil
            let inputGradients = switch rule {
            case .local(let backward): try backward(gradient)
            case .continuing(let backward): try backward(gradient, records[index].inputs.map(take))
            }
            if liveBuffers != nil || parent != nil { for case let g? in inputGradients { measure(g) } }
            for (input, g) in zip(records[index].inputs, inputGradients) {
                guard let g else { continue }
                try accumulate(g, into: input)
            }
        }
    }

    /// The gradient accumulated so far for `target`, removed from the graph.
    private func take(_ target: GradientTarget) -> DeviceBuffer? {
        switch target {
        case .none:
            return nil
        case .record(let index):
            defer { recordGradients[index] = nil }
            return recordGradients[index]
        case .leaf(let tensor):
            return leafGradients.removeValue(forKey: ObjectIdentifier(tensor))
        }
    }

    /// Starts the gradient of the leaf `tensor` at `gradient` (a checkpointed segment's inputs).
    func seedGradient(of tensor: Tensor, _ gradient: DeviceBuffer) {
        leafGradients[ObjectIdentifier(tensor)] = gradient
    }

    private func accumulate(_ gradient: DeviceBuffer, into target: GradientTarget) throws {
        switch target {
        case .none:
            return
        case .record(let index):
            recordGradients[index] = try sum(recordGradients[index], gradient)
        case .leaf(let tensor):
            let key = ObjectIdentifier(tensor)
            leafGradients[key] = try sum(leafGradients[key], gradient)
        }
    }

    /// `existing + gradient` in a new buffer, or `gradient` when there is nothing yet.
    private func sum(_ existing: DeviceBuffer?, _ gradient: DeviceBuffer) throws -> DeviceBuffer {
        guard let existing else { return gradient }
        let sum = try buffer(count: existing.count)
        try backend.binary(.add, existing, shape: [existing.count], gradient, shape: [gradient.count], output: sum)
        return sum
    }

    /// dL/d`tensor` after ``backward(from:)`` for a leaf, or nil when the loss does not depend
    /// on it. Intermediate tensors' gradients are freed as soon as they have been passed on.
    public func gradient(of tensor: Tensor) -> DeviceBuffer? { leafGradients[ObjectIdentifier(tensor)] }

    /// Host copy of a tensor's values (for scalars and tests).
    public func values(_ tensor: Tensor) throws -> [Float] { try backend.download(tensor.buffer) }
}
