import CZlib
import Foundation

/// gzip decompression through the system zlib.
public enum Gzip {
    /// The largest decompressed file accepted (the largest real one, MNIST's train images, is 47 MB).
    static let maximumSize = 1 << 31

    /// The decompressed contents of a gzip file (or of raw bytes when `data` is not gzip).
    /// `file` names the source in errors.
    public static func decompress(_ data: [UInt8], file: String) throws -> [UInt8] {
        guard data.count >= 2, data[0] == 0x1F, data[1] == 0x8B else { return data }
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.malformed(file: file, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(data.count * 5)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try data.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DataError.malformed(file: file, reason: "corrupt gzip data (\(message)); delete the file and fetch it again")
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                guard output.count <= maximumSize else {
                    throw DataError.malformed(file: file, reason: "decompresses to more than \(maximumSize >> 30) GiB: not a dataset file")
                }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DataError.malformed(file: file, reason: "truncated gzip file (ended after \(output.count) bytes of data)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
