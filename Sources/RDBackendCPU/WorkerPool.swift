import Dispatch
import Foundation
import Synchronization

/// Helper threads that live for the whole process and run ``Parallel``'s loops beside the
/// calling thread, so that a loop does not wait for Dispatch to hand over threads and
/// allocates nothing: the helpers reach the loop's body (a ``ParallelLoopBody``) through its
/// address on the caller's stack and a function specialised for its type, valid until `run`
/// returns.
///
/// One loop at a time: the caller takes the pool (``run(workers:chunks:count:_:)`` returns
/// false when another loop holds it, as a loop started inside a loop body does, and the caller
/// then uses Dispatch). It publishes the loop under a new ticket, wakes the helpers that
/// sleep, claims chunks itself as worker 0, closes the ticket and waits until no helper is
/// inside the loop. A helper spins for ``spin`` after a loop before it sleeps: the next loop
/// of a training step usually starts within microseconds.
final class WorkerPool: @unchecked Sendable {
    /// The pool for ``Parallel/threads``, its helpers started on first use.
    static let shared = WorkerPool(helpers: Parallel.threads - 1)

    /// How long a helper looks for the next loop before it sleeps.
    static let spin: UInt64 = 200_000  // ns

    private let helpers: Int
    /// `generation << 1 | open`: the current loop, and whether helpers may join it.
    private let ticket = Atomic<Int>(0)
    /// Helpers between joining a ticket and leaving its loop.
    private let active = Atomic<Int>(0)
    /// The next chunk to claim.
    private let next = Atomic<Int>(0)
    /// Whether a caller holds the pool.
    private let busy = Atomic<Bool>(false)
    /// Per helper: it is asleep (or about to sleep) on its semaphore.
    private let sleeping: UnsafeMutablePointer<Atomic<Bool>>
    private let wake: [DispatchSemaphore]

    // The published loop; written by the caller before it opens the ticket.
    private nonisolated(unsafe) var body: UnsafeRawPointer?
    private nonisolated(unsafe) var invoke: ((_ body: UnsafeRawPointer, Range<Int>, _ worker: Int) -> Void)?
    private nonisolated(unsafe) var workers = 0
    private nonisolated(unsafe) var chunks = 0
    private nonisolated(unsafe) var count = 0

    private init(helpers: Int) {
        self.helpers = max(0, helpers)
        sleeping = .allocate(capacity: max(1, helpers))
        for i in 0..<self.helpers { (sleeping + i).initialize(to: Atomic(false)) }
        wake = (0..<self.helpers).map { _ in DispatchSemaphore(value: 0) }
        for i in 0..<self.helpers {
            let thread = Thread { [unowned self] in self.helperLoop(i) }
            thread.name = "rdlab-cpu-\(i + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body(range, worker)` on chunk `c` = `count·c/chunks ..< count·(c+1)/chunks` for
    /// every `c < chunks`, on `workers` threads (the caller and `workers − 1` helpers); false,
    /// without running anything, when the pool is taken or has too few helpers.
    func run<Body: ParallelLoopBody>(workers: Int, chunks: Int, count: Int, _ body: Body) -> Bool {
        guard workers - 1 <= helpers, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withUnsafePointer(to: body) { body in
            self.body = UnsafeRawPointer(body)
            // Specialised for `Body` (the backend is built with -O even in debug builds), this
            // closure captures nothing: a function pointer, no context to allocate. Calling the
            // body through its type instead would run unspecialised code for generic bodies.
            self.invoke = { body, range, worker in body.assumingMemoryBound(to: Body.self).pointee(range, worker) }
            self.workers = workers
            self.chunks = chunks
            self.count = count
            next.store(0, ordering: .sequentiallyConsistent)
            let generation = (ticket.load(ordering: .relaxed) >> 1) &+ 1
            ticket.store(generation << 1 | 1, ordering: .sequentiallyConsistent)
            for i in 0..<(workers - 1) where sleeping[i].exchange(false, ordering: .sequentiallyConsistent) {
                wake[i].signal()
            }
            claimChunks(worker: 0)
            ticket.store(generation << 1, ordering: .sequentiallyConsistent)
            while active.load(ordering: .sequentiallyConsistent) != 0 {}
            self.body = nil
            self.invoke = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func claimChunks(worker: Int) {
        guard let body, let invoke else { return }
        while true {
            let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard chunk < chunks else { return }
            invoke(body, (count * chunk / chunks)..<(count * (chunk + 1) / chunks), worker)
        }
    }

    private func helperLoop(_ index: Int) {
        var joined = 0  // the last generation this helper has seen
        func newLoop() -> Int? {
            let t = ticket.load(ordering: .sequentiallyConsistent)
            return t & 1 == 1 && t >> 1 != joined ? t : nil
        }
        while true {
            var found = newLoop()
            if found == nil {
                let deadline = DispatchTime.now().uptimeNanoseconds &+ Self.spin
                var polls = 0
                while found == nil {
                    found = newLoop()
                    polls &+= 1
                    if polls & 1023 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
                }
            }
            if found == nil {
                sleeping[index].store(true, ordering: .sequentiallyConsistent)
                if newLoop() != nil, sleeping[index].exchange(false, ordering: .sequentiallyConsistent) {
                    continue  // a loop opened before anyone saw this helper asleep
                }
                wake[index].wait()  // the caller that cleared `sleeping` signals
                continue
            }
            active.wrappingAdd(1, ordering: .sequentiallyConsistent)
            // Join only if that loop is still open: its caller now waits for this helper.
            let t = ticket.load(ordering: .sequentiallyConsistent)
            if t & 1 == 1 {
                joined = t >> 1
                if index + 1 < workers { claimChunks(worker: index + 1) }
            }
            active.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
