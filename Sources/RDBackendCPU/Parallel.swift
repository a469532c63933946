import Dispatch
import Foundation
import Synchronization

/// Loops split over the machine's cores.
///
/// Work is cut into fixed chunks decided before any thread starts, and the workers claim the
/// chunks from a shared counter: on a shared VM a worker whose core is taken away for a while
/// does not hold the others up, as it would with one static range per thread. Chunk
/// boundaries do not depend on timing, so results computed per chunk (and partial sums kept
/// per chunk and added in chunk order) are deterministic for a fixed thread count.
///
/// Loops run on ``WorkerPool``'s persistent threads without allocating; a loop that finds the
/// pool taken (one started inside another loop's body, or on a second thread) uses
/// `concurrentPerform`, which allocates.
enum Parallel {
    /// Worker count: `RDLAB_CPU_THREADS`, else the number of active processors.
    static let threads: Int = {
        if let text = ProcessInfo.processInfo.environment["RDLAB_CPU_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Chunks per worker: enough to rebalance when a core stalls, few enough to keep chunks long.
    static let chunksPerWorker = 4

    /// Calls `body(range, worker)` on disjoint ranges covering `0..<count`, each at least
    /// `grain` long; runs inline when one range suffices. `worker` (in `0..<threads`) is
    /// unique among the calls running at one time, for per-worker scratch memory. Allocates
    /// nothing unless the pool is taken.
    static func forEachRange<Body: ParallelLoopBody>(_ count: Int, grain: Int = 1, _ body: Body) {
        guard count > 0 else { return }
        let pieces = max(1, count / max(grain, 1))
        let workers = min(threads, pieces)
        if workers == 1 {
            body(0..<count, 0)
            return
        }
        let chunks = min(pieces, workers * chunksPerWorker)
        if WorkerPool.shared.run(workers: workers, chunks: chunks, count: count, body) { return }
        // The pool is running another loop (this one is nested in it, or on another thread).
        let next = Atomic<Int>(0)
        let box = UnsafeSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                box.value((count * chunk / chunks)..<(count * (chunk + 1) / chunks), worker)
            }
        }
    }
}

/// The body of a ``Parallel`` loop: what one worker does with one chunk. A small struct per
/// loop holds the loop's inputs (pointers and sizes); ``WorkerPool`` hands it to its helpers by
/// address, with no allocation, where a closure would need the heap box that
/// `withoutActuallyEscaping` makes on every call.
protocol ParallelLoopBody: SendableMetatype {
    /// Processes `range` of the loop's indices as worker `worker` (unique among the calls
    /// running at one time, in `0..<Parallel.threads`).
    func callAsFunction(_ range: Range<Int>, _ worker: Int)
}

/// Carries a non-Sendable value into `concurrentPerform`, whose iterations write disjoint memory.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
