import CZlib
import Foundation
import RDCompute
import RDFiles

/// An 8-bit greyscale image written as PNG (zlib for the data and the CRCs).
struct PNGImage {
    let width: Int
    let height: Int
    /// Row-major grey levels.
    var pixels: [UInt8]

    init(width: Int, height: Int, fill: UInt8 = 255) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: fill, count: width * height)
    }

    /// Pastes a `size`×`size` image of values in [0, 1] (ink = 1, drawn black on white), each
    /// value as a `scale`×`scale` block with its top left corner at (`x`, `y`).
    mutating func paste(_ values: ArraySlice<Float>, size: Int, scale: Int = 1, x: Int, y: Int) {
        for (i, v) in values.enumerated() {
            let level = v.isNaN ? 128 : UInt8(max(0, min(255, (1 - v) * 255)).rounded())
            for dy in 0..<scale {
                let row = (y + (i / size) * scale + dy) * width + x + (i % size) * scale
                for dx in 0..<scale { pixels[row + dx] = level }
            }
        }
    }

    func encoded() throws -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(0)  // filter: none
            raw += pixels[(row * width)..<((row + 1) * width)]
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, uLong(raw.count), Z_BEST_COMPRESSION)
        guard status == Z_OK else {
            throw ComputeError.invalidArgument(op: "PNG encoding", reason: "zlib compress2 failed with status \(status)")
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return be(UInt32(body.count)) + typed + be(UInt32(crc32(0, typed, uInt(typed.count))))
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be(UInt32(width)) + be(UInt32(height)) + [8, 0, 0, 0, 0])
        png += chunk("IDAT", Array(compressed[0..<Int(compressedSize)]))
        png += chunk("IEND", [])
        return Data(png)
    }

    func write(to url: URL) throws { try AtomicFile.write(try encoded(), to: url) }
}
