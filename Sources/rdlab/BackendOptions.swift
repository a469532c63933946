import ArgumentParser
import Foundation
import Logging
import RDBackends
import RDCompute

/// Options every command that computes shares: backend choice, strictness and op fallback.
struct BackendOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "auto | cpu | opencl[:DEVICE] | a plugin's name[:DEVICE]; DEVICE is an index or part of a platform/device name (env RDLAB_BACKEND).",
        valueName: "backend"))
    var backend: String?

    @Flag(name: .long, help: "Exit with an error instead of falling back to the CPU (env RDLAB_STRICT_BACKEND=1).")
    var strictBackend = false

    @Flag(name: .long, help: "Run the ops the backend lacks on the CPU even under --strict-backend (env RDLAB_ALLOW_OP_FALLBACK=1).")
    var allowOpFallback = false

    @Option(name: .long, help: ArgumentHelp(
        "Load a backend from this shared library (repeatable; env RDLAB_BACKEND_PLUGINS=PATH:PATH). Only the paths given are loaded.",
        valueName: "path"))
    var backendPlugin: [String] = []

    /// The plugin files: every `--backend-plugin`, then `RDLAB_BACKEND_PLUGINS` split at ':'.
    var pluginPaths: [String] {
        let environment = ProcessInfo.processInfo.environment["RDLAB_BACKEND_PLUGINS"] ?? ""
        return backendPlugin + environment.split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// The registry of this run: the built-in families, then the plugins that loaded. A plugin
    /// that does not load is a WARN and is skipped, or an error under --strict-backend.
    func registry(logger: Logger) throws -> BackendRegistry {
        try BackendRegistry.standard(plugins: pluginPaths, strict: strict, logger: logger)
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

    /// Loads the plugins, parses, selects and logs the backend; falls back or fails as the options say.
    func select(logger: Logger) throws -> BackendSelection {
        try select(in: registry(logger: logger), logger: logger)
    }

    /// Parses, selects and logs the backend in `registry`; falls back or fails as the options say.
    func select(in registry: BackendRegistry, logger: Logger) throws -> BackendSelection {
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
