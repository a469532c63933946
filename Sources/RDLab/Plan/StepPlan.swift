import RDCompute

/// A training step recorded once and replayed over buffers the plan owns: forward pass, host
/// reads, backward pass and Adam, with no graph, tensor, closure or device buffer made per step.
///
/// A plan is built from two takes of consecutive steps (``StepRecorder``) that must make the
/// same calls on the same buffers with the same arguments, except what a step changes by
/// design: the Philox stream of each draw (which must stay or advance by one per step), and
/// Adam's hyperparameters and step count (the optimiser's, given at each replay). Host values
/// uploaded or filled must be equal in both takes; a step that depends on the host otherwise
/// (a control flow on read values, an Echo permutation drawn on the host, a β that moves with
/// the step) gives two takes that differ, and is not planned.
///
/// Buffers made during the take are given the plan's own buffers by lifetime: a buffer is
/// live from the first call that names it to the last, and a call's new buffers take buffers
/// of the same size that earlier calls have finished with, so the plan holds about the eager
/// step's peak. Buffers from before the take (parameters, moments, the batch's input) are the
/// same objects at every replay.
final class StepPlan {
    struct Call {
        let operands: [DeviceBuffer]
        /// Whether the call's Philox stream advances by one per step.
        let advancesStream: Bool
        let replay: StepRecorder.Replay
    }

    /// The part of a step to run.
    enum Phase {
        /// The forward pass up to the last host read (the batch means and the loss).
        case forward
        /// The backward pass and the optimiser's update.
        case update
    }

    let backend: any Backend
    private let calls: [Call]
    /// Calls `0 ..< updateStart` are the forward phase.
    private let updateStart: Int
    /// The step of the first take.
    let firstStep: Int
    /// Where each host read of a replay lands, in the order of the take's reads.
    let readings: [UnsafeMutableBufferPointer<Float>]
    /// The buffers the plan owns, and their bytes.
    let bufferCount: Int
    let bytes: Int
    /// The number of calls replayed.
    var callCount: Int { calls.count }
    /// The conv passes fused with the elementwise op after them (``StepFusion``).
    let fusedPairs: Int

    /// Why two takes do not make a plan.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// The plan of `first` (the take of step `firstStep`) if `second` (of the next step) makes
    /// the same calls, and reads `reads` values from the device; buffers are made on `backend`.
    /// Where `backend` itself has ``Backend/conv2dFused(_:pass:input:filter:epilogue:output:)``
    /// and the ops it stands for, the passes whose output only a ReLU's op reads are fused with
    /// it (``StepFusion``).
    init(first: StepRecorder, second: StepRecorder, firstStep: Int, reads: Int, backend: any Backend) throws {
        if let reason = first.unplannable ?? second.unplannable { throw Refusal(description: reason) }
        // Only where one device runs the fused op and the ops it stands for (not through an op
        // fallback, which would copy both ways or round differently).
        let fuse = ((backend as? OpFallbackBackend)?.primary ?? backend).supportedOps.isSuperset(of: StepFusion.ops)
        let (firstCalls, pairs) = fuse ? StepFusion.fused(first.calls, madeCounts: first.madeCounts) : (first.calls, 0)
        let secondCalls = fuse ? StepFusion.fused(second.calls, madeCounts: second.madeCounts).calls : second.calls
        guard firstCalls.count == secondCalls.count else {
            throw Refusal(description: "two steps made \(firstCalls.count) and \(secondCalls.count) calls")
        }
        guard first.madeCounts == second.madeCounts else {
            throw Refusal(description: "two steps made different buffers (\(first.madeCounts.count) and \(second.madeCounts.count))")
        }
        var advances: [Bool] = []
        var readCounts: [Int] = []
        for (index, (a, b)) in zip(firstCalls, secondCalls).enumerated() {
            guard a.signature == b.signature, a.operands == b.operands else {
                throw Refusal(description: "call \(index) differs between two steps (\(a.signature.prefix(60)))")
            }
            switch (a.dependence, b.dependence) {
            case (.randomStream(let x), .randomStream(let y)) where y == x || y == x &+ 1:
                advances.append(y != x)
            case (.randomStream, _):
                throw Refusal(description: "call \(index) draws from a Philox stream that neither stays nor advances by one per step")
            case (.adam(_, let x), .adam(_, let y)) where y == x + 1:
                advances.append(false)
            case (.upload(let x), .upload(let y)) where x.elementsEqual(y, by: { $0.bitPattern == $1.bitPattern }):
                advances.append(false)
            case (.upload, _):
                throw Refusal(description: "call \(index) uploads host values that change from step to step")
            case (.download(let x), .download(let y)) where x == y:
                advances.append(false)
                readCounts.append(a.operands.reduce(0) { $0 + $1.count(madeCounts: first.madeCounts) })
            case (.none, .none):
                advances.append(false)
            default:
                throw Refusal(description: "call \(index) differs between two steps (\(a.signature.prefix(60)))")
            }
        }
        guard readCounts.count == reads else {
            throw Refusal(description: "the step reads \(readCounts.count) values from the device, not only its \(reads) means and loss")
        }
        self.backend = backend
        self.firstStep = firstStep
        let physical = try Self.assignBuffers(firstCalls, madeCounts: first.madeCounts, backend: backend)
        calls = zip(firstCalls, zip(physical.operands, advances)).map { call, planned in
            Call(operands: planned.0, advancesStream: planned.1, replay: call.replay)
        }
        fusedPairs = pairs
        let lastRead = firstCalls.lastIndex { if case .download = $0.dependence { true } else { false } }
        updateStart = lastRead.map { $0 + 1 } ?? 0
        readings = readCounts.map { count in
            let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            values.initialize(repeating: 0)
            return values
        }
        bufferCount = physical.distinct
        bytes = physical.bytes
    }

    deinit {
        for values in readings { values.deallocate() }
    }

    /// Runs `phase` of the step `step` (≥ ``firstStep``); `adam` and `adamStep` are the
    /// optimiser's for this step's updates.
    func run(_ phase: Phase, step: Int, adam: AdamParameters, adamStep: Int) throws {
        let range = phase == .forward ? 0..<updateStart : updateStart..<calls.count
        let advance = UInt64(step - firstStep)
        var arguments = StepArguments(stepsSinceTake: 0, adam: adam, adamStep: adamStep, readings: readings)
        for index in range {
            let call = calls[index]
            arguments.stepsSinceTake = call.advancesStream ? advance : 0
            try call.replay(backend, call.operands, arguments)
        }
    }

    /// Each call's operands: a buffer of `backend` for every buffer the take made, shared by
    /// buffers of the same size whose lifetimes do not overlap (a buffer is free again after
    /// the call that last names it, not during it: a call never gets one of its own operands'
    /// buffers), and the buffers from outside the take as they are.
    private static func assignBuffers(_ takeCalls: [StepRecorder.Call], madeCounts: [Int], backend: any Backend) throws
        -> (operands: [[DeviceBuffer]], distinct: Int, bytes: Int) {
        var lastUse: [Int: Int] = [:]
        for (index, call) in takeCalls.enumerated() {
            for case .made(let buffer) in call.operands { lastUse[buffer] = index }
        }
        var assigned: [Int: DeviceBuffer] = [:]
        var free: [Int: [DeviceBuffer]] = [:]
        var distinct = 0, bytes = 0
        var operands: [[DeviceBuffer]] = []
        for (index, call) in takeCalls.enumerated() {
            operands.append(try call.operands.map { operand in
                switch operand {
                case .outside(let buffer):
                    return buffer
                case .made(let buffer):
                    if let physical = assigned[buffer] { return physical }
                    let count = madeCounts[buffer]
                    let physical: DeviceBuffer
                    if let reused = free[count]?.popLast() {
                        physical = reused
                    } else {
                        physical = try backend.makeBuffer(count: count)
                        distinct += 1
                        bytes += count * MemoryLayout<Float>.stride
                    }
                    assigned[buffer] = physical
                    return physical
                }
            })
            var released = Set<Int>()
            for case .made(let buffer) in call.operands where lastUse[buffer] == index && released.insert(buffer).inserted {
                if let physical = assigned[buffer] { free[madeCounts[buffer], default: []].append(physical) }
            }
        }
        return (operands, distinct, bytes)
    }
}
