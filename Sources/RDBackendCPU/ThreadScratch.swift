import Foundation

/// Temporary memory of the calling thread for what a kernel computes per call (padded copies,
/// packed and transformed filters, partial sums, phase and tap tables), taken and given back in
/// last-in, first-out order, so that a steady-state training step does not call `malloc`.
///
/// Each thread (the caller and each ``WorkerPool`` helper) has one block, 64-byte aligned, and
/// a top. ``take(_:)`` returns the next 64-byte-aligned piece above the top; a request that
/// does not fit comes from the heap instead, and the block grows to fit the deepest use seen
/// the next time it is empty. Pieces must be given back in the reverse order of taking (a
/// `defer` right after each take does that), also across nested loops on one thread.
final class ThreadScratch {
    private var block: UnsafeMutableRawPointer?
    private var capacity = 0
    private var top = 0
    /// The most bytes in use at once, heap pieces included: the block's next size.
    private var deepest = 0
    private var heapBytes = 0

    private static let alignment = 64

    /// The calling thread's scratch, made on its first use and freed when the thread ends.
    static var current: ThreadScratch {
        if let existing = pthread_getspecific(key) { return Unmanaged<ThreadScratch>.fromOpaque(existing).takeUnretainedValue() }
        let scratch = ThreadScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ThreadScratch>.fromOpaque(pointer).release()
        }
        return key
    }()

    deinit { block?.deallocate() }

    /// `count` values of `T` (at least one; `T`'s alignment at most 64), 64-byte aligned, until
    /// ``give(_:_:)``.
    func take<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = Self.bytes(T.self, count)
        if top == 0 && heapBytes == 0 && Swift.max(deepest, bytes) > capacity { grow(to: Swift.max(deepest, bytes)) }
        deepest = Swift.max(deepest, top + heapBytes + bytes)
        let piece: UnsafeMutableRawPointer
        if let block, top + bytes <= capacity {
            piece = block + top
            top += bytes
        } else {
            piece = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
            heapBytes += bytes
        }
        return piece.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    /// Gives back the piece of `count` values last taken, at `pointer`.
    func give<T>(_ pointer: UnsafeMutablePointer<T>, _ count: Int) {
        let piece = UnsafeMutableRawPointer(pointer)
        if let block, piece >= block, piece < block + capacity {
            assert(piece - block + Self.bytes(T.self, count) == top, "scratch given back out of order or with another count")
            top = piece - block
        } else {
            heapBytes -= Self.bytes(T.self, count)
            piece.deallocate()
        }
    }

    /// `count` values of `T` rounded up to whole 64-byte lines.
    private static func bytes<T>(_ type: T.Type, _ count: Int) -> Int {
        precondition(MemoryLayout<T>.alignment <= alignment, "scratch is 64-byte aligned")
        return (Swift.max(count, 1) * MemoryLayout<T>.stride + alignment - 1) / alignment * alignment
    }

    private func grow(to bytes: Int) {
        guard bytes > capacity else { return }
        block?.deallocate()
        block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        capacity = bytes
    }
}
