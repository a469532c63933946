import Dispatch
import Foundation

/// Static partitioning of loops over the machine's cores.
///
/// Work is split into contiguous, equal ranges decided before any thread starts, so results
/// that are reduced per range are combined in a fixed order: the CPU backend is
/// deterministic for a fixed thread count.
enum Parallel {
    /// Worker count: `RDLAB_CPU_THREADS`, else the number of active processors.
    static let threads: Int = {
        if let text = ProcessInfo.processInfo.environment["RDLAB_CPU_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body(range, worker)` on up to `threads` disjoint ranges covering `0..<count`,
    /// each at least `grain` long; runs inline when one range suffices.
    static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        guard count > 0 else { return }
        let parts = min(threads, max(1, count / max(grain, 1)))
        if parts == 1 {
            body(0..<count, 0)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lower = count * part / parts
                let upper = count * (part + 1) / parts
                box.value(lower..<upper, part)
            }
        }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`, whose iterations write disjoint memory.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
