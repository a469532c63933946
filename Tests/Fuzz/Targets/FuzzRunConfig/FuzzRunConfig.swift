import Foundation
import FuzzReplay
import RDLab

/// Fuzz target: the decoder of a run's `config.json` with its field checks, as `--resume`
/// and `eval --run` use it. Any input may be rejected; none may trap.
public func fuzzRunConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    _ = try? RunDirectory.decodeConfig(Data(bytes: data, count: size), file: "input",
        datasets: ["binarized-mnist", "mnist", "fashion-mnist"], binarizations: ["dynamic", "threshold", "none"])
    return 0
}

@main enum Fuzz {
    static func main() { FuzzReplay.main(fuzzRunConfig) }
}
