import ArgumentParser
import Foundation
import Logging
import RDBackendCPU
import RDBackendOpenCL
import RDCompute

/// Options every command that computes shares: backend choice, strictness and op fallback.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "auto | cpu | opencl[:DEVICE]; DEVICE is an index or part of a platform/device name (env RDLAB_BACKEND).",
        valueName: "backend"))
    var backend: String?

    @Flag(name: .long, help: "Exit with an error instead of falling back to the CPU (env RDLAB_STRICT_BACKEND=1).")
    var strictBackend = false

    @Flag(name: .long, help: "Run the ops the backend lacks on the CPU even under --strict-backend (env RDLAB_ALLOW_OP_FALLBACK=1).")
    var allowOpFallback = false

    /// The registry of this executable: the CPU backend, then OpenCL.
    static func registry() -> BackendRegistry {
        BackendRegistry([CPUBackendFactory(), OpenCLBackendFactory()])
    }

    var strict: Bool { strictBackend || ProcessInfo.processInfo.environment["RDLAB_STRICT_BACKEND"] == "1" }

    var opFallbackAllowed: Bool {
        allowOpFallback || ProcessInfo.processInfo.environment["RDLAB_ALLOW_OP_FALLBACK"] == "1"
    }

    /// The request from the flag, else `RDLAB_BACKEND`, else `auto`.
    func request(in registry: BackendRegistry) throws -> BackendRequest {
        let text = backend ?? ProcessInfo.processInfo.environment["RDLAB_BACKEND"] ?? "auto"
        do {
            return try BackendRequest(parsing: text, validNames: registry.names)
        } catch let error as ComputeError {
            throw ValidationError("--backend: \(error)")
        }
    }

    /// Parses, selects and logs the backend; falls back or fails as the options say.
    func select(logger: Logger) throws -> BackendSelection {
        let registry = Self.registry()
        let request = try request(in: registry)
        do {
            let selection = try registry.select(request, strict: strict, allowOpFallback: opFallbackAllowed, logger: logger)
            logger.info("backend \(selection.backend.device) (requested \(request))")
            return selection
        } catch let error as ComputeError {
            throw CleanExit.failure("backend '\(request)' unusable: \(error)")
        }
    }
}

/// An error that prints its message and exits non-zero without usage text.
struct CleanExit: ReportableError {
    let description: String
    static func failure(_ message: String) -> CleanExit { CleanExit(description: message) }
}
