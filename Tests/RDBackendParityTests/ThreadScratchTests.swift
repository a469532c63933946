import Dispatch
import Foundation
import Synchronization
import Testing

@testable import RDBackendCPU

/// The kernels' per-thread scratch: pieces 64-byte aligned and disjoint while held, given back
/// last-in first-out; a request that does not fit comes from the heap, and the block grows to
/// the deepest use once empty, so the same sequence of takes then stays in the block.
@Suite("CPU thread scratch")
struct ThreadScratchTests {
    @Test func piecesAreAlignedDisjointAndReused() {
        let scratch = ThreadScratch()
        func sequence() -> [UnsafeMutablePointer<Float>] {
            let a = scratch.take(Float.self, 100)
            let b = scratch.take(SIMD16<Float>.self, 3)
            let c = scratch.take(Float.self, 1)
            defer {
                scratch.give(c, 1)
                scratch.give(b, 3)
                scratch.give(a, 100)
            }
            let bytes = UnsafeMutableRawPointer(b)
            #expect(Int(bitPattern: a) % 64 == 0 && Int(bitPattern: bytes) % 64 == 0 && Int(bitPattern: c) % 64 == 0)
            // a's 400 bytes end before b, b's 192 before c (when they share the block)
            if UnsafeMutableRawPointer(a) < bytes { #expect(UnsafeMutableRawPointer(a) + 400 <= bytes) }
            if bytes < UnsafeMutableRawPointer(c) { #expect(bytes + 192 <= UnsafeMutableRawPointer(c)) }
            for i in 0..<100 { a[i] = Float(i) }
            c[0] = -1
            #expect(a[99] == 99)
            return [a, UnsafeMutableRawPointer(b).assumingMemoryBound(to: Float.self), c]
        }
        _ = sequence()  // the first time: the block is too small, pieces come from the heap
        let second = sequence(), third = sequence()
        #expect(second == third, "the grown block serves the same takes at the same places")
        #expect(UnsafeMutableRawPointer(second[1]) - UnsafeMutableRawPointer(second[0]) == 448)
    }

    @Test func threadsHaveTheirOwn() {
        let here = ObjectIdentifier(ThreadScratch.current)
        #expect(ObjectIdentifier(ThreadScratch.current) == here)
        let there = Mutex<ObjectIdentifier?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            there.withLock { $0 = ObjectIdentifier(ThreadScratch.current) }
            done.signal()
        }.start()
        done.wait()
        #expect(there.withLock { $0 } != nil && there.withLock { $0 } != here)
    }
}
