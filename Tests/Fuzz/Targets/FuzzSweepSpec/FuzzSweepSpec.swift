import Foundation
import FuzzReplay
import RDSweep

/// Fuzz target: the readers of a sweep — the spec (YAML, expanded into points, as `sweep plan`
/// does) and `points.json` (as every other `sweep` command reads it). Any input may be
/// rejected; none may trap.
public func fuzzSweepSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    if let spec = try? SweepSpec.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "input") {
        _ = try? spec.points()
    }
    _ = try? SweepDirectory.decodePlan(bytes, file: "input")
    return 0
}

@main enum Fuzz {
    static func main() { FuzzReplay.main(fuzzSweepSpec) }
}
