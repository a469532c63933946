import Logging

extension BackendRegistry {
    /// Completes a partial backend with the CPU backend (``OpFallbackBackend``), or refuses it.
    ///
    /// A selected backend that lacks ops is wrapped so that those ops run on the CPU, with one
    /// line naming them: INFO when `allowOpFallback` (the user asked for it), else WARN.
    /// `strict` without `allowOpFallback` throws instead, naming the missing ops.
    func completingOps(of selection: BackendSelection, strict: Bool, allowOpFallback: Bool,
        logger: Logger) throws -> BackendSelection {
        let backend = selection.backend
        let missing = Op.allCases.filter { !backend.supports($0) }
        guard !missing.isEmpty else { return selection }
        let names = missing.map(\.rawValue).joined(separator: ", ")
        if strict && !allowOpFallback {
            throw ComputeError.unsupported(op: names, backend: backend.displayName,
                reason: "--strict-backend runs no op on the CPU; add --allow-op-fallback to run them there")
        }
        guard let cpu = factory(named: Self.fallbackName) else {
            throw ComputeError.noDevice(backend: Self.fallbackName,
                reason: "no \(Self.fallbackName) backend registered to run the ops \(backend.displayName) lacks (\(names))")
        }
        let fallback = try cpu.makeBackend(on: cpu.devices()[0])
        let message: Logger.Message = "backend \(backend.displayName) lacks \(missing.count) ops, which run on \(fallback.displayName) with their buffers moved: \(names)"
        if allowOpFallback { logger.info(message) } else { logger.warning(message) }
        return BackendSelection(backend: OpFallbackBackend(primary: backend, fallback: fallback, logger: logger),
            requested: selection.requested, fallbackReason: selection.fallbackReason)
    }
}
