import Foundation
import Logging

extension BackendRegistry {
    /// Registers a loaded plugin's factory; its name must not be taken by a built-in backend or
    /// another plugin (a plugin cannot replace `cpu`).
    public func register(plugin: LoadedPlugin) throws {
        let name = plugin.factory.name
        guard !name.isEmpty, name == name.lowercased(), name != "auto", !name.contains(where: { $0 == ":" || $0.isWhitespace })
        else { throw PluginError.invalidName(path: plugin.path, name: name) }
        if let existing = factory(named: name) {
            let owner = pluginPath(of: existing.name).map { "the plugin \($0)" } ?? "the built-in backend"
            // the same file loaded twice (a path given twice) is one plugin, not a clash
            if pluginPath(of: name) == plugin.path { return }
            throw PluginError.nameTaken(path: plugin.path, name: name, by: owner)
        }
        register(plugin.factory)
        setPluginPath(plugin.path, for: name)
    }

    /// Loads and registers the plugins at `paths`, in order. A plugin that fails is logged as a
    /// WARN naming the file and the reason, and skipped; under `strict` its error is thrown.
    @discardableResult
    public func loadPlugins(_ paths: [String], strict: Bool, logger: Logger) throws -> [LoadedPlugin] {
        var plugins: [LoadedPlugin] = []
        for path in paths {
            do {
                let plugin = try PluginLoader.load(path)
                try register(plugin: plugin)
                logger.info("backend plugin '\(plugin.factory.name)' loaded from \(plugin.path)")
                plugins.append(plugin)
            } catch let error as PluginError {
                if strict { throw error }
                logger.warning("\(error); going on without it")
            }
        }
        return plugins
    }
}
