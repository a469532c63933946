import Foundation
import Logging
import RDCompute

extension TunedGemmTile {
    /// Paths already reported in this process: every backend made on a device reads its file,
    /// and a training run or test suite makes many, but one message per file is enough.
    private static let reported = ReportedPaths()

    /// The usable record for `device`, or nil; a damaged file is one WARN and a record of other
    /// kernel sources one NOTICE per process, each naming the file and what to run.
    static func tuned(for device: DeviceDescription, in directory: URL?, sources: String, logger: Logger) -> TunedGemmTile? {
        switch load(for: device, in: directory, sources: sources) {
        case .found(let record):
            return record
        case .absent:
            return nil
        case .otherKernels(let path):
            if reported.isFirst(path) {
                logger.notice("the GEMM tuning file \(path) was measured with other kernel sources (another rdlab or RDLAB_KERNEL_DIR); using the default tile table. Run `rdlab tune --backend \(device.selector)` to measure these kernels")
            }
            return nil
        case .damaged(let path, let reason):
            if reported.isFirst(path) {
                logger.warning("ignoring the GEMM tuning file \(path) (\(reason)); using the default tile table. Run `rdlab tune --backend \(device.selector)` to measure it again")
            }
            return nil
        }
    }
}

/// A thread-safe set of paths, each reported once.
private final class ReportedPaths: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: Set<String> = []

    /// True the first time `path` is seen (then remembered).
    func isFirst(_ path: String) -> Bool {
        lock.withLock { paths.insert(path).inserted }
    }
}
