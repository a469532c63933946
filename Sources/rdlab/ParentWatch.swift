import Foundation
import RDLab
import RDSweep

/// A `train` started by `rdlab sweep run` (which names itself in `RDLAB_PARENT_PID`) stops
/// as on SIGTERM, checkpointed, once that parent is gone, so a runner killed with SIGKILL
/// leaves no orphan holding a point's lock.
enum ParentWatch {
    static func start() {
        guard let text = ProcessInfo.processInfo.environment[SweepRunner.parentVariable], let parent = Int32(text) else { return }
        Thread.detachNewThread {
            while getppid() == parent { Thread.sleep(forTimeInterval: 0.25) }
            StopSignal.request(SIGTERM)
        }
    }
}
