import CMalloc
import Foundation
import Synchronization

/// Host memory of a CPU buffer, 64-byte aligned for `SIMD16<Float>`, taken from and given
/// back to ``CPUMemoryPool``.
final class CPUStorage {
    let pointer: UnsafeMutablePointer<Float>
    private let byteCount: Int

    /// glibc serves big blocks with `mmap` and returns them to the kernel on free, so every
    /// training step would page-fault its activations and scratch back in, zero-filled by the
    /// kernel (~10 % of a reference-VAE step). With `mmap` off (its threshold cannot be set
    /// above 32 MiB; a larger value is ignored) and no trimming, freed blocks stay in the heap
    /// and a step reuses the last one's memory; peak resident memory is unchanged. This also
    /// serves the kernels' scratch memory, which the pool does not hold.
    static let keepFreedMemory: Void = {
        #if os(Linux)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }()

    init(count: Int) {
        Self.keepFreedMemory
        byteCount = max(count, 1) * MemoryLayout<Float>.stride
        pointer = CPUMemoryPool.shared.take(byteCount: byteCount).bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { CPUMemoryPool.shared.give(UnsafeMutableRawPointer(pointer), byteCount: byteCount) }
}

/// Buffer memory freed by one training step, kept by size for the next step's buffers of
/// the same sizes, so that a steady-state step does not call `malloc` for them. Holds at
/// most ``limitBytes``; memory beyond that is freed at once.
final class CPUMemoryPool: Sendable {
    static let shared = CPUMemoryPool(limitBytes: min(2 << 30, Int(ProcessInfo.processInfo.physicalMemory / 8)))

    /// The most bytes the pool keeps unused.
    let limitBytes: Int

    private struct Blocks: @unchecked Sendable {
        /// Free blocks and their sizes in bytes. A flat list (a step frees a few hundred
        /// blocks): appending within its capacity and removing from it allocate nothing, where
        /// a dictionary's in-place update allocates its accessor's frame.
        var free: [(byteCount: Int, block: UnsafeMutableRawPointer)] = []
        var bytes = 0
    }

    private let blocks = Mutex(Blocks())

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// A block of `byteCount` bytes on a 64-byte boundary: a kept one if there is one.
    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let kept = blocks.withLock { blocks -> UnsafeMutableRawPointer? in
            guard let index = blocks.free.lastIndex(where: { $0.byteCount == byteCount }) else { return nil }
            blocks.free.swapAt(index, blocks.free.count - 1)
            blocks.bytes -= byteCount
            return blocks.free.removeLast().block
        }
        return kept ?? UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    /// Keeps `block` for the next ``take(byteCount:)`` of its size, or frees it when the pool is full.
    func give(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        let kept = blocks.withLock { blocks -> Bool in
            guard blocks.bytes + byteCount <= limitBytes else { return false }
            blocks.free.append((byteCount, block))
            blocks.bytes += byteCount
            return true
        }
        if !kept { block.deallocate() }
    }

    /// Bytes kept for reuse.
    var keptBytes: Int { blocks.withLock { $0.bytes } }
}
