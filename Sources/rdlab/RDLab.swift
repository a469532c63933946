import ArgumentParser
import Foundation
import RDCompute
import RDLab

/// `rdlab`: rate–distortion experiments on pluggable compute backends.
@main
struct RDLab: ParsableCommand {
    static let version = "0.1.0"

    /// Parses; runs; prints an error of the run without usage text and exits 1 (usage errors
    /// and exit codes go through ArgumentParser).
    static func main() {
        if let problem = HostCPUCheck.problem() {
            FileHandle.standardError.write(Data("rdlab: error: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as RunLockError {
            FileHandle.standardError.write(Data("rdlab: error: \(error)\n".utf8))
            Foundation.exit(RunLockError.exitStatus)
        } catch let error as any ReportableError {
            FileHandle.standardError.write(Data("rdlab: error: \(error)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)  // exit codes, usage errors, help requests
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "rdlab",
        abstract: "Map the rate–distortion plane of latent-variable models on CPU or OpenCL backends.",
        discussion: """
            Backends are chosen with --backend auto|cpu|opencl[:DEVICE] or RDLAB_BACKEND (same grammar). \
            DEVICE is an index from 'rdlab devices' or part of a platform/device name or vendor \
            (opencl:1, opencl:nvidia, opencl:pocl). 'auto' takes the best GPU, else the CPU; CPU OpenCL \
            devices such as PoCL are used only when named.
            """,
        version: version,
        subcommands: [TrainCommand.self, EvalCommand.self, SweepCommand.self, DevicesCommand.self, BenchCommand.self, TuneCommand.self,
            DeltaRateCommand.self, SelftestCommand.self]
    )
}
