import RDBackendCPU
import RDBackendOpenCL
import RDCompute

extension BackendRegistry {
    /// The one list of built-in backends: the CPU backend, then OpenCL (ggml's
    /// `ggml_backend_reg`). The CLI, the tests and the benchmarks all start here; a new built-in
    /// family is added here and nowhere else.
    public static func standard() -> BackendRegistry {
        BackendRegistry([CPUBackendFactory(), OpenCLBackendFactory()])
    }

    /// The built-in backends, then each plugin in `plugins` that loads. A plugin that does not
    /// load is one WARN on `logger` and is skipped, or, with `strict`, the ``PluginError``
    /// naming its file.
    public static func standard(plugins: [String], strict: Bool, logger: Logger) throws -> BackendRegistry {
        let registry = standard()
        try registry.loadPlugins(plugins, strict: strict, logger: logger)
        return registry
    }
}
