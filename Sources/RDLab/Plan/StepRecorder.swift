import Foundation
import RDCompute

/// A backend that runs every call on the backend it wraps and writes the call down: one
/// *take* of a training step, from which ``StepPlan`` is built.
///
/// It presents the wrapped backend's identity, so buffers pass ownership checks either way.
/// It does not keep the buffers the step makes (memory during a take is the eager step's):
/// each is known by the order in which it was made, and followed weakly until its last use.
/// Buffers made before the take (parameters, Adam's moments, the batch's input) are kept,
/// since a replay reads and writes them again.
final class StepRecorder: Backend, @unchecked Sendable {
    /// How a recorded call runs again: on a backend, with its operands (the buffers the plan
    /// gives it, in the order the call listed them) and the arguments of the step replayed.
    typealias Replay = (any Backend, [DeviceBuffer], StepArguments) throws -> Void

    /// A buffer a call reads or writes.
    enum Operand: Equatable {
        /// The `n`th buffer made during the take.
        case made(Int)
        /// A buffer that existed before the take.
        case outside(DeviceBuffer)

        /// Its elements, for a take that made buffers of `madeCounts`.
        func count(madeCounts: [Int]) -> Int {
            switch self {
            case .made(let index): madeCounts[index]
            case .outside(let buffer): buffer.count
            }
        }

        /// The same buffer: the same index, or the same object.
        static func == (a: Operand, b: Operand) -> Bool {
            switch (a, b) {
            case (.made(let i), .made(let j)): i == j
            case (.outside(let p), .outside(let q)): p === q
            default: false
            }
        }
    }

    /// What a replay must give a call anew each step, beside its operands.
    enum StepDependence: Equatable {
        /// Nothing: the call's arguments are in its signature.
        case none
        /// A draw from Philox stream `stream` (compared between takes to find its rule).
        case randomStream(UInt64)
        /// An Adam update: its hyperparameters and step count come from the optimiser.
        case adam(AdamParameters, step: Int)
        /// Host values copied onto the device (compared between takes: they must not change).
        case upload([Float])
        /// A host read: the `n`th value the step reads back.
        case download(Int)
    }

    /// What ``StepFusion`` needs to know of a call it may fuse or move work past.
    enum FusionRole {
        /// A conv pass that writes an image-shaped tensor; operands `[input, filter, output]`.
        case imagePass(Conv2DGeometry, Conv2DImagePass)
        /// A filter gradient; operands `[input, gradOutput, gradFilter]`, only the last written.
        case filterGradient
        /// ``Backend/biasReLU(_:bias:output:)``; operands `[x, bias, output]`.
        case biasReLU
        /// ``Backend/biasReLUBackward(output:gradOutput:gradInput:gradBias:)``; operands
        /// `[output, gradOutput, gradInput, gradBias]`.
        case biasReLUBackward
    }

    struct Call {
        /// The op and its arguments other than buffers and step dependence, for comparing takes.
        let signature: String
        let operands: [Operand]
        let dependence: StepDependence
        var role: FusionRole? = nil
        let replay: Replay
    }

    /// Why a take cannot become a plan whatever the next take does.
    private(set) var unplannable: String?

    let wrapped: any Backend
    private(set) var calls: [Call] = []
    /// The element counts of the buffers made during the take, in order.
    private(set) var madeCounts: [Int] = []
    private var made: [ObjectIdentifier: (index: Int, buffer: WeakReference)] = [:]
    private var downloads = 0

    struct WeakReference {
        weak var buffer: DeviceBuffer?
    }

    init(wrapping backend: any Backend) {
        wrapped = backend
    }

    var instanceID: BackendInstanceID { wrapped.instanceID }
    var device: DeviceDescription { wrapped.device }
    var supportedOps: Set<Op> { wrapped.supportedOps }

    /// `buffer` as an operand: a buffer of this take while it lives, else one from outside.
    private func operand(_ buffer: DeviceBuffer) -> Operand {
        if let entry = made[ObjectIdentifier(buffer)], entry.buffer.buffer === buffer { return .made(entry.index) }
        return .outside(buffer)
    }

    /// Runs `replay` on the wrapped backend with `operands` and writes the call down.
    func record(_ signature: @autoclosure () -> String, _ operands: [DeviceBuffer],
        dependence: StepDependence = .none, role: FusionRole? = nil, _ replay: @escaping Replay) throws {
        var now = StepArguments.recording
        if case .adam(let parameters, let step) = dependence {
            now.adam = parameters
            now.adamStep = step
        }
        try replay(wrapped, operands, now)
        calls.append(Call(signature: signature(), operands: operands.map(operand), dependence: dependence, role: role,
            replay: replay))
    }

    // MARK: Buffers

    func makeBuffer(count: Int) throws -> DeviceBuffer {
        let buffer = try wrapped.makeBuffer(count: count)
        made[ObjectIdentifier(buffer)] = (madeCounts.count, WeakReference(buffer: buffer))
        madeCounts.append(count)
        return buffer
    }

    func upload(_ values: [Float], to buffer: DeviceBuffer) throws {
        try record("upload", [buffer], dependence: .upload(values)) { backend, o, _ in try backend.upload(values, to: o[0]) }
    }

    func download(_ buffer: DeviceBuffer) throws -> [Float] {
        let values = try wrapped.download(buffer)
        let read = downloads
        downloads += 1
        calls.append(Call(signature: "download", operands: [operand(buffer)], dependence: .download(read)) { backend, o, s in
            try backend.download(o[0], into: s.readings[read])
        })
        return values
    }

    func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try record("copy", [source, destination]) { backend, o, _ in try backend.copy(o[0], to: o[1]) }
    }

    func fill(_ buffer: DeviceBuffer, with value: Float) throws {
        try record("fill \(value.bitPattern)", [buffer]) { backend, o, _ in try backend.fill(o[0], with: value) }
    }

    func synchronize() throws {
        try record("synchronize", []) { backend, _, _ in try backend.synchronize() }
    }

    /// Index tables are host data made afresh each step (Echo's permutations): a step that
    /// uses one is not replayed.
    func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer {
        unplannable = unplannable ?? "it uploads an index table each step (Echo noise's permutations)"
        return try wrapped.makeIndexBuffer(words)
    }
}
