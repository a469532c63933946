import RDCompute
import Testing

@testable import RDBackendCPU

/// The CPU buffer pool: freed blocks come back for the next buffer of their size, aligned,
/// and the pool never keeps more than its limit.
@Suite("CPU memory pool")
struct CPUMemoryPoolTests {
    @Test func aFreedBlockServesTheNextTakeOfItsSize() {
        let pool = CPUMemoryPool(limitBytes: 1 << 20)
        let first = pool.take(byteCount: 4096)
        #expect(Int(bitPattern: first) % 64 == 0)
        pool.give(first, byteCount: 4096)
        #expect(pool.keptBytes == 4096)
        let other = pool.take(byteCount: 8192)
        #expect(other != first, "a block of another size was handed out")
        #expect(pool.take(byteCount: 4096) == first)
        #expect(pool.keptBytes == 0)
        pool.give(first, byteCount: 4096)
        pool.give(other, byteCount: 8192)
        #expect(pool.keptBytes == 12288)
    }

    @Test func blocksPastTheLimitAreFreed() {
        let pool = CPUMemoryPool(limitBytes: 10_000)
        let (a, b) = (pool.take(byteCount: 6000), pool.take(byteCount: 6000))
        pool.give(a, byteCount: 6000)
        pool.give(b, byteCount: 6000)
        #expect(pool.keptBytes == 6000)
        #expect(pool.take(byteCount: 6000) == a)
        #expect(pool.keptBytes == 0)
    }

    /// Buffers of the CPU backend recycle through the shared pool: a buffer made after one of
    /// the same size was released reuses its memory.
    @Test func cpuBuffersReuseReleasedMemory() throws {
        let backend = CPUBackend()
        let count = 123_457  // a size no other test uses
        var buffer: DeviceBuffer? = try backend.makeBuffer(count: count)
        let address = try backend.pointer(buffer!)
        buffer = nil
        let again = try backend.makeBuffer(count: count)
        #expect(try backend.pointer(again) == address)
    }
}
