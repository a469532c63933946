import FuzzReplay
import RDData

/// Fuzz target: the packed-bit reader of static binarized MNIST. Any input may be
/// rejected; none may trap.
public func fuzzPackedBits(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    _ = try? PackedBits.unpack(Array(UnsafeBufferPointer(start: data, count: size)), file: "input")
    return 0
}

@main enum Fuzz {
    static func main() { FuzzReplay.main(fuzzPackedBits) }
}
