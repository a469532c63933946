import Foundation

/// Identity of one backend instance; buffers carry it so that mixing backends is caught.
public struct BackendInstanceID: Hashable, Sendable {
    public let rawValue: Int
    private static let counter = Counter()

    /// A fresh identity, distinct from every other in this process.
    public static func next() -> BackendInstanceID { BackendInstanceID(rawValue: counter.increment()) }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func increment() -> Int { lock.withLock { value += 1; return value } }
    }
}

/// An fp32 array in a backend's memory.
///
/// The buffer owns backend-specific storage (host memory, a `cl_mem`) and is tagged with
/// the backend instance that made it; every op checks the tag and throws
/// ``ComputeError/backendMismatch(expected:found:)`` rather than copying silently.
public final class DeviceBuffer: @unchecked Sendable {
    /// Number of `Float` elements.
    public let count: Int
    /// The backend instance that allocated the buffer.
    public let owner: BackendInstanceID
    /// Human-readable owner, for error messages (`cpu`, `opencl:0 (pthread-…)`).
    public let ownerName: String
    /// Backend-specific storage; only the owning backend interprets it.
    public let storage: AnyObject

    public init(count: Int, owner: BackendInstanceID, ownerName: String, storage: AnyObject) {
        self.count = count
        self.owner = owner
        self.ownerName = ownerName
        self.storage = storage
    }

    public var byteCount: Int { count * MemoryLayout<Float>.stride }
}
