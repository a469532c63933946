import Foundation
import RDTestSupport

/// Small hand-made IDX files for the error and search-order tests.
enum HandMadeIDX {
    static func temporaryDirectory() throws -> URL { try TestDatasets.temporaryDirectory() }

    /// An uncompressed IDX pair of `count` images whose pixels all equal `value`.
    static func writeIDX(count: Int, value: UInt8, labelsCount: Int? = nil, to folder: URL, magic: UInt32 = 0x803) throws {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        var images = be(magic) + be(UInt32(count)) + be(28) + be(28)
        images += [UInt8](repeating: value, count: count * 784)
        try Data(images).write(to: folder.appendingPathComponent("train-images-idx3-ubyte"))
        let n = labelsCount ?? count
        let labels = be(0x801) + be(UInt32(n)) + (0..<n).map { UInt8($0 % 10) }
        try Data(labels).write(to: folder.appendingPathComponent("train-labels-idx1-ubyte"))
    }
}
