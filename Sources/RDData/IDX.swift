import Foundation

/// The IDX format of MNIST and Fashion-MNIST: a big-endian header, then uint8 values.
public enum IDX {
    /// Images file: magic 0x00000803, count, rows, columns, then count·rows·columns bytes.
    public static func images(_ bytes: [UInt8], file: String) throws -> (count: Int, rows: Int, columns: Int, pixels: ArraySlice<UInt8>) {
        guard bytes.count >= 16 else { throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, shorter than the 16-byte IDX image header") }
        let magic = word(bytes, 0)
        guard magic == 0x0000_0803 else {
            throw DataError.malformed(file: file, reason: String(format: "magic 0x%08x, expected 0x00000803 (IDX uint8 images)", magic))
        }
        let (count, rows, columns) = (Int(word(bytes, 4)), Int(word(bytes, 8)), Int(word(bytes, 12)))
        // Each factor is below 2³², so the product is computed without trapping in UInt64 parts.
        let (perImage, overflow1) = UInt64(rows).multipliedReportingOverflow(by: UInt64(columns))
        let (pixels, overflow2) = perImage.multipliedReportingOverflow(by: UInt64(count))
        guard !overflow1, !overflow2, UInt64(bytes.count - 16) == pixels else {
            let expected = overflow1 || overflow2 || pixels > UInt64(Int.max) - 16 ? "more than can exist" : "\(16 + Int(pixels))"
            throw DataError.malformed(file: file, reason: "\(bytes.count) bytes, expected \(expected) for \(count) images of \(rows)×\(columns)")
        }
        guard rows == 28, columns == 28 else {
            throw DataError.malformed(file: file, reason: "images of \(rows)×\(columns) pixels; rdlab's models take 28×28")
        }
        return (count, rows, columns, bytes[16...])
    }

    /// Labels file: magic 0x00000801, count, then count bytes.
    public static func labels(_ bytes: [UInt8], file: String) throws -> [UInt8] {
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
