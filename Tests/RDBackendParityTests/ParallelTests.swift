import Dispatch
import Foundation
import Synchronization
import Testing

@testable import RDBackendCPU

/// `Parallel.forEachRange` on the persistent `WorkerPool`: every index exactly once, whether
/// the helpers spin or sleep, in nested loops and from several threads at once.
@Suite("CPU parallel loops")
struct ParallelTests {
    /// Runs `forEachRange(count)` and returns how often each index was visited.
    static func visits(_ count: Int, grain: Int = 1, nested: Int = 0) -> [Int] {
        let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count * max(1, nested))
        defer { counts.deallocate() }
        for i in 0..<(count * max(1, nested)) { (counts + i).initialize(to: Atomic(0)) }
        Parallel.forEachRange(count, grain: grain, CountVisits(counts: counts, nested: nested))
        return (0..<(count * max(1, nested))).map { counts[$0].load(ordering: .relaxed) }
    }

    /// Adds 1 to `counts[i]` for each index `i` of its ranges or, with `nested` > 0, runs a
    /// loop over `counts[i·nested ..< (i+1)·nested]` for each.
    struct CountVisits: ParallelLoopBody {
        let counts: UnsafeMutablePointer<Atomic<Int>>
        let nested: Int

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            #expect(worker >= 0 && worker < Parallel.threads)
            for i in range {
                if nested == 0 {
                    counts[i].wrappingAdd(1, ordering: .relaxed)
                } else {
                    Parallel.forEachRange(nested, CountVisits(counts: counts + i * nested, nested: 0))
                }
            }
        }
    }

    @Test func everyIndexOnceWhetherHelpersSpinOrSleep() {
        for round in 0..<60 {
            #expect(Self.visits(1000 + round).allSatisfy { $0 == 1 }, "round \(round)")
            // past the helpers' spin time, so the next loop wakes them from their semaphores
            if round % 10 == 9 { Thread.sleep(forTimeInterval: 0.002) }
        }
        #expect(Self.visits(5, grain: 2).allSatisfy { $0 == 1 })
    }

    @Test func nestedLoopsCoverTheirRanges() {
        #expect(Self.visits(64, nested: 37).allSatisfy { $0 == 1 })
    }

    @Test func loopsFromSeveralThreadsAtOnce() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<20 where !Self.visits(500 + 13 * caller + round).allSatisfy({ $0 == 1 }) {
                failures.wrappingAdd(1, ordering: .relaxed)
            }
        }
        let failed = failures.load(ordering: .relaxed)
        #expect(failed == 0)
    }

    /// A helper thread, not only the caller, runs chunks: worker 0 holds its chunk until
    /// another worker has run one (in the pool, retried while other tests hold it). The pause
    /// first outlasts the helpers' spin, so the caller has to wake one.
    @Test(.enabled(if: Parallel.threads >= 2))
    func helpersRunChunksBesideTheCaller() {
        let helped = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        helped.initialize(to: Atomic(false))
        defer { helped.deallocate() }
        var ran = false
        Thread.sleep(forTimeInterval: 0.002)
        for _ in 0..<1000 where !ran {
            ran = WorkerPool.shared.run(workers: 2, chunks: 2, count: 2, WaitForHelper(helped: helped))
            if !ran { Thread.sleep(forTimeInterval: 0.001) }
        }
        let helperRan = helped[0].load(ordering: .acquiring)
        #expect(ran, "the pool stayed taken")
        #expect(helperRan, "no helper thread ran a chunk within 10 s")
    }

    /// Worker 0 waits (at most 10 s) until another worker has run a chunk and set `helped`.
    struct WaitForHelper: ParallelLoopBody {
        let helped: UnsafeMutablePointer<Atomic<Bool>>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            if worker == 0 {
                let deadline = Date().addingTimeInterval(10)
                while !helped[0].load(ordering: .acquiring) && Date() < deadline {}
            } else {
                helped[0].store(true, ordering: .releasing)
            }
        }
    }
}
