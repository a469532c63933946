import Dispatch
import Foundation

/// Splits host loops (im2col, col2im) over the cores; OpenBLAS threads each `sgemm` itself.
enum HostParallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Below this many floats of work a loop runs on the calling thread.
    static let minimumWork = 1 << 15

    /// Calls `body(range)` for `parts` (at most ``cores``) contiguous, disjoint slices covering
    /// `0 ..< count`, concurrently when `work` floats are worth it.
    static func forEachSlice(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let parts = work < minimumWork ? 1 : min(cores, count)
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        // The slices are disjoint and concurrentPerform returns when all are done, so `body`
        // (which captures raw pointers) is safe to share for the call.
        withoutActuallyEscaping(body) { body in
            let shared = unsafeBitCast(body, to: (@Sendable (Range<Int>) -> Void).self)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared((count * part / parts)..<(count * (part + 1) / parts))
            }
        }
    }
}
