import Crypto
import Foundation
import RDFiles

/// The kernel sources a tuned tile was measured with: `gemm.cl` and `conv.cl` (built for each
/// candidate) and `masked.cl` (the direct conv passes the tiled ones hand over to). A tuning
/// file records their digest, so a tile measured with other kernels (another rdlab, or
/// `RDLAB_KERNEL_DIR`) is not taken unchecked, as ``ProgramCache`` keys programs by source.
struct TuningSources: Sendable {
    let gemm: String
    let conv: String
    let masked: String

    /// The sources a backend with this kernel directory (nil: the embedded ones) compiles.
    init(directory: URL?) throws {
        self.init(gemm: try KernelSource.text(of: .gemm, directory: directory),
            conv: try KernelSource.text(of: .conv, directory: directory),
            masked: try KernelSource.text(of: .masked, directory: directory))
    }

    init(gemm: String, conv: String, masked: String) {
        self.gemm = gemm
        self.conv = conv
        self.masked = masked
    }

    /// SHA-256 of the three texts, hex.
    var digest: String {
        SHA256.hash(data: Array([gemm, conv, masked].joined(separator: "\u{0}").utf8)).hex
    }
}
