import Foundation
import RDCompute

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// name to `{dtype, shape, data_offsets}` (plus `__metadata__`, strings only), then the raw
/// little-endian data. Only F32 is written or read. Files are written atomically.
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
        try AtomicFile.write(data, to: url)
    }

    public static func read(_ url: URL) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CheckpointError.unreadable(url.path, "cannot read the file")
        }
        guard data.count >= 8 else { throw CheckpointError.unreadable(url.path, "shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength > 0, 8 + headerLength <= data.count,
            let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
        else { throw CheckpointError.unreadable(url.path, "header is not valid safetensors JSON") }
        let body = data.subdata(in: (8 + headerLength)..<data.count)
        var tensors: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], info["dtype"] as? String == "F32", let shape = info["shape"] as? [Int],
                let offsets = info["data_offsets"] as? [Int], offsets.count == 2, offsets[0] <= offsets[1],
                offsets[1] <= body.count, offsets[1] - offsets[0] == 4 * shape.reduce(1, *)
            else { throw CheckpointError.unreadable(url.path, "entry '\(name)' is not a complete F32 tensor (truncated file?)") }
            let values = body.subdata(in: offsets[0]..<offsets[1]).withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            tensors[name] = Entry(shape: shape, values: values)
        }
        return (tensors, header["__metadata__"] as? [String: String] ?? [:])
    }
}

/// Problems with a checkpoint file, naming it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case mismatch(String, String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "checkpoint \(file): \(reason)"
        case let .mismatch(file, reason): "checkpoint \(file) does not fit this model: \(reason)"
        }
    }
}
