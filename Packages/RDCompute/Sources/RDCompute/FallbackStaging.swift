/// The fallback's copies of one op's operands (see ``OpFallbackBackend``): made and filled
/// from the primary's buffers before the op, copied back into them after.
struct FallbackStaging {
    private let primary: any Backend
    private let fallback: any Backend
    /// The fallback's copy of each operand, by the primary buffer's identity.
    private var copies: [ObjectIdentifier: DeviceBuffer] = [:]
    /// The written operands and their copies, each once, in operand order.
    private var written: [(original: DeviceBuffer, copy: DeviceBuffer)] = []
    /// Buffers moved so far, either way, and their bytes.
    private(set) var transfers = 0
    private(set) var bytes = 0

    /// Uploads every read buffer to a fallback copy and makes a copy of every written one.
    init(from primary: any Backend, to fallback: any Backend, reads: [DeviceBuffer], writes: [DeviceBuffer]) throws {
        self.primary = primary
        self.fallback = fallback
        for buffer in reads where copies[ObjectIdentifier(buffer)] == nil {
            copies[ObjectIdentifier(buffer)] = try fallback.makeBuffer(try primary.download(buffer))
            count(buffer)
        }
        for buffer in writes where !written.contains(where: { $0.original === buffer }) {
            let copy = try copies[ObjectIdentifier(buffer)] ?? fallback.makeBuffer(count: buffer.count)
            copies[ObjectIdentifier(buffer)] = copy
            written.append((buffer, copy))
        }
    }

    /// The fallback's copy of an operand; an operand the op did not declare is an error.
    func copy(of buffer: DeviceBuffer) throws -> DeviceBuffer {
        guard let copy = copies[ObjectIdentifier(buffer)] else {
            throw ComputeError.invalidArgument(op: "op fallback", reason: "an operand was not declared as read or written")
        }
        return copy
    }

    /// Uploads every written copy back into the primary's buffer.
    mutating func writeBack() throws {
        for (original, copy) in written {
            try primary.upload(try fallback.download(copy), to: original)
            count(original)
        }
    }

    private mutating func count(_ buffer: DeviceBuffer) {
        transfers += 1
        bytes += buffer.byteCount
    }
}
