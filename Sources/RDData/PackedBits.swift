/// Static binarized MNIST as packed rows: 98 bytes per 784-pixel row, most significant bit first.
public enum PackedBits {
    static let bytesPerRow = 98

    /// Unpacks every row to 0/1 bytes; the file size must be a whole number of rows.
    public static func unpack(_ bytes: [UInt8], file: String) throws -> (count: Int, pixels: [UInt8]) {
        guard !bytes.isEmpty, bytes.count % bytesPerRow == 0 else {
            throw DataError.malformed(file: file,
                reason: "\(bytes.count) bytes is not a whole number of 98-byte packed rows (784 pixels, MSB first)")
        }
        let count = bytes.count / bytesPerRow
        var pixels = [UInt8](repeating: 0, count: count * 784)
        pixels.withUnsafeMutableBufferPointer { out in
            for r in 0..<count {
                for j in 0..<784 {
                    out[r * 784 + j] = (bytes[r * bytesPerRow + j / 8] >> (7 - UInt8(j % 8))) & 1
                }
            }
        }
        return (count, pixels)
    }
}
