import Foundation
import Logging

/// A partial backend completed by a fallback backend (the CPU), op by op: ggml's scheduler
/// idea, with every move between the two explicit and counted.
///
/// Buffers are the primary's, and this backend presents the primary's identity
/// (``instanceID``, ``device``), so the primary's buffers pass ``Backend/checkOwnership(_:)``
/// here and this backend's buffers pass it on the primary. An op in the primary's
/// ``Backend/supportedOps`` is forwarded as is. Any other op runs on the fallback: its input
/// buffers are downloaded from the primary and uploaded to fallback buffers, the op runs there,
/// and its outputs are downloaded and uploaded back into the primary's buffers. Each buffer
/// moved in either direction is one transfer (``transfers``). The first fallback of each op
/// is logged once at INFO.
///
/// Index buffers travel as the fp32 bit patterns that ``Backend/download(_:)`` returns, which
/// is how every built-in backend stores them (``Backend/makeIndexBuffer(_:)``).
public final class OpFallbackBackend: Backend, @unchecked Sendable {
    /// What one fallback op cost so far.
    public struct Traffic: Equatable, Sendable {
        /// Calls of the op that ran on the fallback.
        public var calls = 0
        /// Buffers moved between the two backends, either way.
        public var transfers = 0
        /// Bytes those transfers moved.
        public var bytes = 0

        public init(calls: Int = 0, transfers: Int = 0, bytes: Int = 0) {
            self.calls = calls
            self.transfers = transfers
            self.bytes = bytes
        }
    }

    /// The backend whose buffers and supported ops are used.
    public let primary: any Backend
    /// The backend that runs every op the primary lacks.
    public let fallback: any Backend
    private let logger: Logger
    private let lock = NSLock()
    private var traffic: [Op: Traffic] = [:]

    /// Completes `primary` with `fallback`; `logger` gets one INFO line per fallback op.
    public init(primary: any Backend, fallback: any Backend, logger: Logger) {
        self.primary = primary
        self.fallback = fallback
        self.logger = logger
    }

    public var instanceID: BackendInstanceID { primary.instanceID }
    public var device: DeviceDescription { primary.device }
    /// The primary's ops and the fallback's (every op when the fallback is the CPU).
    public var supportedOps: Set<Op> { primary.supportedOps.union(fallback.supportedOps) }

    /// The ops the primary lacks, in ``Op`` order: those that run on the fallback.
    public var fallbackOps: [Op] { Op.allCases.filter { !primary.supports($0) } }

    /// The traffic of every op that has run on the fallback; ops that have not are absent.
    public var transfers: [Op: Traffic] { lock.withLock { traffic } }

    /// One line per op that ran on the fallback, in ``Op`` order, for the end of a run.
    public var transferSummary: [String] {
        let snapshot = transfers
        return Op.allCases.compactMap { op in
            snapshot[op].map { "\(op.rawValue): \($0.calls) calls on \(fallback.displayName), \($0.transfers) transfers, \($0.bytes) bytes" }
        }
    }

    // MARK: Buffers (the primary's)

    public func makeBuffer(count: Int) throws -> DeviceBuffer { try primary.makeBuffer(count: count) }
    public func upload(_ values: [Float], to buffer: DeviceBuffer) throws { try primary.upload(values, to: buffer) }
    public func download(_ buffer: DeviceBuffer) throws -> [Float] { try primary.download(buffer) }
    public func download(_ buffer: DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        try primary.download(buffer, into: values)
    }
    public func copy(_ source: DeviceBuffer, to destination: DeviceBuffer) throws {
        try primary.copy(source, to: destination)
    }
    public func fill(_ buffer: DeviceBuffer, with value: Float) throws { try primary.fill(buffer, with: value) }
    public func synchronize() throws { try primary.synchronize() }
    public func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer { try primary.makeIndexBuffer(words) }

    // MARK: Routing

    /// Runs `op` on the primary when it has it, else on the fallback with its operands moved.
    ///
    /// `call` makes the op's method call on the backend it is given, passing every buffer
    /// operand through the mapping it is given (the identity on the primary). `reads` are the
    /// buffers the op reads and `writes` those it writes (a buffer updated in place is in
    /// both); a written buffer that is not read starts undefined on the fallback, as the op
    /// overwrites it. A buffer passed twice is staged once, so aliasing is kept.
    func route(_ op: Op, reads: [DeviceBuffer], writes: [DeviceBuffer],
        _ call: (any Backend, (DeviceBuffer) throws -> DeviceBuffer) throws -> Void) throws {
        guard !primary.supports(op) else {
            try call(primary) { $0 }
            return
        }
        var staging = try FallbackStaging(from: primary, to: fallback, reads: reads, writes: writes)
        try call(fallback) { try staging.copy(of: $0) }
        try staging.writeBack()
        record(op, staging)
    }

    /// Adds one fallback call of `op` to its traffic; logs the first.
    private func record(_ op: Op, _ staging: FallbackStaging) {
        let first = lock.withLock {
            var entry = traffic[op] ?? Traffic()
            entry.calls += 1
            entry.transfers += staging.transfers
            entry.bytes += staging.bytes
            traffic[op] = entry
            return entry.calls == 1
        }
        if first {
            logger.info("op \(op.rawValue) is not on \(primary.displayName): running it on \(fallback.displayName) (\(staging.transfers) buffer \(staging.transfers == 1 ? "transfer" : "transfers") in its first call)")
        }
    }
}
