import Foundation
import RDCompute
import RDFiles

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// name to `{dtype, shape, data_offsets}` (plus `__metadata__`, strings only), then the raw
/// little-endian data. Only F32 is written or read. Files are written atomically.
///
/// The reader trusts nothing in the file: a header length past the end, a dtype other than F32,
/// a negative dimension, a shape whose element count overflows, offsets out of range, tensors
/// that overlap or leave bytes unaccounted for, and non-string metadata are each an error that
/// names the entry — never a trap.
public enum SafeTensors {
    public struct Entry: Equatable, Sendable {
        public let shape: [Int]
        public let values: [Float]

        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public static func write(_ tensors: [String: Entry], metadata: [String: String], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }

    /// The file's bytes: header padded with spaces to a multiple of 8, then the tensors in name order.
    public static func encode(_ tensors: [String: Entry], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let entry = tensors[name]!
            let bytes = entry.values.count * 4
            header[name] = ["dtype": "F32", "shape": entry.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        data.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            tensors[name]!.values.withUnsafeBytes { raw in
                for v in raw.bindMemory(to: Float.self) { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        return data
    }

    public static func read(_ url: URL) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        let data: Data
        do {
            data = try AtomicFile.read(url)
        } catch let error as FileSystemError {
            throw CheckpointError.unreadable(url.path, error.cause)
        }
        return try decode(data, file: url.path)
    }

    /// Parses a whole file's bytes; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        func bad(_ reason: String) -> CheckpointError { .unreadable(file, reason) }
        guard data.count >= 8 else { throw bad("\(data.count) bytes, shorter than the 8-byte header length") }
        let bytes = [UInt8](data)
        let declared = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard declared >= 2, declared <= UInt64(bytes.count - 8) else {
            throw bad("header length \(declared) does not fit a file of \(bytes.count) bytes (truncated?)")
        }
        let headerEnd = 8 + Int(declared)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
            let header = object as? [String: Any]
        else { throw bad("the header is not a JSON object (damaged file?)") }
        let bodyCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else { throw bad("__metadata__ is not a map of strings") }
            metadata = strings
        }
        var spans: [(name: String, range: Range<Int>, shape: [Int])] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            guard let dtype = info["dtype"] as? String else { throw bad("entry '\(name)' has no dtype") }
            guard dtype == "F32" else { throw bad("entry '\(name)' has dtype \(dtype); only F32 is supported") }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("entry '\(name)' has a shape that is not a list of non-negative integers")
            }
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Int.max / 4 else { throw bad("entry '\(name)': shape \(shape) has more elements than fit in memory") }
                count = product
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw bad("entry '\(name)' has no data_offsets [begin, end]")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bodyCount else {
                throw bad("entry '\(name)': data_offsets \(offsets) lie outside the \(bodyCount) data bytes (truncated file?)")
            }
            guard offsets[1] - offsets[0] == 4 * count else {
                throw bad("entry '\(name)': data_offsets \(offsets) hold \(offsets[1] - offsets[0]) bytes, shape \(shape) needs \(4 * count)")
            }
            spans.append((name, offsets[0]..<offsets[1], shape))
        }
        spans.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        var covered = 0
        for span in spans {
            guard span.range.lowerBound >= covered else { throw bad("entry '\(span.name)' overlaps the data of another tensor") }
            guard span.range.lowerBound == covered else { throw bad("bytes \(covered)..<\(span.range.lowerBound) of the data belong to no tensor") }
            covered = span.range.upperBound
        }
        guard covered == bodyCount else { throw bad("\(bodyCount - covered) bytes after the last tensor belong to no tensor") }
        var tensors: [String: Entry] = [:]
        for span in spans {
            let start = headerEnd + span.range.lowerBound
            let values = bytes.withUnsafeBytes { raw in
                (0..<(span.range.count / 4)).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self)))
                }
            }
            tensors[span.name] = Entry(shape: span.shape, values: values)
        }
        return (tensors, metadata)
    }

    /// A JSON array of whole numbers that fit in `Int`, or nil.
    static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let integer = element as? Int else { return nil }
            result.append(integer)
        }
        return result
    }
}

/// Problems with a checkpoint file, naming it.
public enum CheckpointError: ReportableError, Equatable {
    case unreadable(String, String)
    case mismatch(String, String)
    /// A state that must not be written (non-finite values); the file on disk is untouched.
    case notSaved(String, String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "checkpoint \(file): \(reason)"
        case let .mismatch(file, reason): "checkpoint \(file) does not fit this model: \(reason)"
        case let .notSaved(file, reason): "checkpoint \(file) not written: \(reason)"
        }
    }
}
