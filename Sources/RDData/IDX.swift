import Foundation

/// The IDX format of MNIST and Fashion-MNIST: a big-endian header, then uint8 values.
enum IDX {
    /// Images file: magic 0x00000803, count, rows, columns, then count·rows·columns bytes.
    static func images(_ bytes: [UInt8], file: String) throws -> (count: Int, rows: Int, columns: Int, pixels: ArraySlice<UInt8>) {
        guard bytes.count >= 16 else { throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, shorter than the 16-byte IDX image header") }
        let magic = word(bytes, 0)
        guard magic == 0x0000_0803 else {
            throw DataError.malformed(file: file, reason: String(format: "magic 0x%08x, expected 0x00000803 (IDX uint8 images)", magic))
        }
        let (count, rows, columns) = (Int(word(bytes, 4)), Int(word(bytes, 8)), Int(word(bytes, 12)))
        let expected = 16 + count * rows * columns
        guard bytes.count == expected else {
            throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, expected \(expected) for \(count) images of \(rows)×\(columns)")
        }
        return (count, rows, columns, bytes[16...])
    }

    /// Labels file: magic 0x00000801, count, then count bytes.
    static func labels(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        guard bytes.count >= 8 else { throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, shorter than the 8-byte IDX label header") }
        let magic = word(bytes, 0)
        guard magic == 0x0000_0801 else {
            throw DataError.malformed(file: file, reason: String(format: "magic 0x%08x, expected 0x00000801 (IDX uint8 labels)", magic))
        }
        let count = Int(word(bytes, 4))
        guard bytes.count == 8 + count else {
            throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, expected \(8 + count) for \(count) labels")
        }
        return Array(bytes[8...])
    }

    static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
