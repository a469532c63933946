import FuzzReplay
import RDData

/// Fuzz target: gzip decompression and the IDX image and label parsers, as a dataset
/// file goes through them. Any input may be rejected; none may trap.
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard let bytes = try? Gzip.decompress(Array(UnsafeBufferPointer(start: data, count: size)), file: "input") else { return 0 }
    _ = try? IDX.images(bytes, file: "input")
    _ = try? IDX.labels(bytes, file: "input")
    return 0
}

@main enum Fuzz {
    static func main() { FuzzReplay.main(fuzzIDX) }
}
