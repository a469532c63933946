import Foundation
import FuzzReplay
import RDLab

/// Fuzz target: the safetensors reader and the checkpoint checks behind `eval` and
/// `--resume` (format, checksum, counters, model configuration). Any input may be rejected;
/// none may trap.
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard let (tensors, metadata) = try? SafeTensors.decode(Data(bytes: data, count: size), file: "input") else { return 0 }
    _ = try? Checkpoint.verified(tensors, metadata, file: "input")
    return 0
}

@main enum Fuzz {
    static func main() { FuzzReplay.main(fuzzSafeTensors) }
}
