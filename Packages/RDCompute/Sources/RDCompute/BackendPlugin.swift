import Foundation

/// The plugin API: how a backend built as its own shared library hands rdlab a
/// ``BackendFactory`` (ggml's `ggml_backend_init` + `api_version`, for Swift).
///
/// A plugin exports one C symbol, ``entrySymbol``, of type ``Entry``:
///
/// ```swift
/// @_cdecl("rdlab_backend_plugin")
/// public func rdlabBackendPlugin(_ factory: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
///     BackendPlugin.export(MyBackendFactory(), to: factory)
/// }
/// ```
///
/// The entry returns the API version the plugin was built with and stores a retained pointer to
/// a factory object in `factory` (``export(_:to:)`` boxes any factory). The loader reads the
/// version first and touches the pointer only when it matches ``apiVersion``.
///
/// **The ABI rule.** The factory crosses the `dlopen` boundary as a Swift existential, so the
/// plugin and rdlab must share one RDCompute: the same `BackendFactory` protocol descriptor, the
/// same `DeviceBuffer` class, the same `BackendInstanceID` counter. RDCompute is therefore one
/// shared library, `libRDCompute.so` (the `.dynamic` product of `Packages/RDCompute`), which
/// rdlab and every plugin link (ggml's `libggml-base.so`); a plugin's reference to it binds to
/// the copy rdlab already loaded. RDCompute is not built with library evolution, so there is no
/// stable ABI: a plugin must be compiled by the same Swift compiler as rdlab, against the same
/// RDCompute sources, in the same configuration. A plugin that carries its own static copy of
/// RDCompute (protected visibility on Linux binds it to that copy) hands over a factory of
/// foreign types; the loader's type check refuses it (``PluginError/wrongFactoryType(path:type:)``)
/// rather than run it. See docs/developer/runtime.md, "The ABI rule".
public enum BackendPlugin {
    /// The plugin API this RDCompute speaks; bumped whenever ``Backend``, ``BackendFactory`` or
    /// the types they use change in a way a compiled plugin would notice.
    public static let apiVersion: Int32 = 1

    /// The one symbol a plugin exports (with `@_cdecl`).
    public static let entrySymbol = "rdlab_backend_plugin"

    /// The entry's C type: store a retained factory object in the argument, return the API version.
    public typealias Entry = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32

    /// What a plugin's entry does: stores `factory`, boxed and retained, in `slot` and returns
    /// ``apiVersion`` (the version of the RDCompute the plugin is running against).
    public static func export(_ factory: any BackendFactory, to slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
        slot?.pointee = Unmanaged.passRetained(BackendPluginFactoryBox(factory)).toOpaque()
        return apiVersion
    }
}

/// The object a plugin's entry hands over (see ``BackendPlugin/export(_:to:)``), so a factory
/// that is a struct crosses as a class instance.
public final class BackendPluginFactoryBox: Sendable {
    public let factory: any BackendFactory

    public init(_ factory: any BackendFactory) {
        self.factory = factory
    }
}

/// A plugin that loaded: the file and its factory.
public struct LoadedPlugin: Sendable {
    /// The path as given (made absolute).
    public let path: String
    public let factory: any BackendFactory

    public init(path: String, factory: any BackendFactory) {
        self.path = path
        self.factory = factory
    }
}

/// Why a plugin did not load; every case names the file.
public enum PluginError: ReportableError, Equatable, Sendable {
    /// Nothing at the path.
    case fileNotFound(path: String)
    /// `dlopen` refused the file (not a shared library, wrong architecture, a missing dependency…);
    /// `reason` is `dlerror()`'s text.
    case notLoadable(path: String, reason: String)
    /// The library loads but does not export the entry symbol.
    case missingEntry(path: String, symbol: String)
    /// The entry reports another plugin API version.
    case versionMismatch(path: String, plugin: Int32, expected: Int32)
    /// The entry returned no factory.
    case noFactory(path: String)
    /// The entry returned an object that is not an RDCompute ``BackendFactory`` of this process.
    case wrongFactoryType(path: String, type: String)
    /// The plugin's backend name is already registered (a built-in backend or another plugin).
    case nameTaken(path: String, name: String, by: String)
    /// The plugin's backend name cannot be typed after `--backend`: empty, `auto`, upper case,
    /// or holding `:` or a space.
    case invalidName(path: String, name: String)

    public var path: String {
        switch self {
        case let .fileNotFound(path), let .notLoadable(path, _), let .missingEntry(path, _),
            let .versionMismatch(path, _, _), let .noFactory(path), let .wrongFactoryType(path, _),
            let .nameTaken(path, _, _), let .invalidName(path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "backend plugin \(path): no such file"
        case let .notLoadable(path, reason):
            return "backend plugin \(path) is not a loadable shared library: \(reason)"
        case let .missingEntry(path, symbol):
            return "backend plugin \(path) does not export the entry symbol '\(symbol)' (is it an rdlab backend plugin?)"
        case let .versionMismatch(path, plugin, expected):
            return "backend plugin \(path) speaks plugin API version \(plugin), this rdlab speaks \(expected); rebuild the plugin against this rdlab's RDCompute"
        case let .noFactory(path):
            return "backend plugin \(path): its entry '\(BackendPlugin.entrySymbol)' returned no factory"
        case let .wrongFactoryType(path, type):
            return "backend plugin \(path) returned a \(type), not an RDCompute BackendFactory of this rdlab; build the plugin with the same Swift compiler and RDCompute as rdlab, linking libRDCompute.so (docs/developer/runtime.md, The ABI rule)"
        case let .nameTaken(path, name, by):
            return "backend plugin \(path) names its backend '\(name)', which \(by) already registers"
        case let .invalidName(path, name):
            return "backend plugin \(path) names its backend \(name.debugDescription), which --backend cannot name: use lower case without ':' or spaces, other than 'auto'"
        }
    }
}

/// Loads backend plugins from explicit paths: never a directory search, never `dlopen`'s own
/// library search (a relative path is taken relative to the working directory, as written).
///
/// A library, once loaded, stays loaded for the life of the process (Swift metadata cannot be
/// unloaded); loading the same file again returns the same factory without calling the entry
/// again.
public enum PluginLoader {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: LoadedPlugin] = [:]

    /// Opens `path` (`RTLD_NOW | RTLD_LOCAL`), finds ``BackendPlugin/entrySymbol``, checks the API
    /// version and the factory's type.
    public static func load(_ path: String) throws -> LoadedPlugin {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return try lock.withLock {
            if let plugin = loaded[absolute] { return plugin }
            let plugin = try open(absolute)
            loaded[absolute] = plugin
            return plugin
        }
    }

    private static func open(_ path: String) throws -> LoadedPlugin {
        guard FileManager.default.fileExists(atPath: path) else { throw PluginError.fileNotFound(path: path) }
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PluginError.notLoadable(path: path, reason: lastDLError() ?? "dlopen failed")
        }
        _ = dlerror()
        guard let symbol = dlsym(handle, BackendPlugin.entrySymbol) else {
            dlclose(handle)
            throw PluginError.missingEntry(path: path, symbol: BackendPlugin.entrySymbol)
        }
        let entry = unsafeBitCast(symbol, to: BackendPlugin.Entry.self)
        var slot: UnsafeMutableRawPointer?
        let version = entry(&slot)
        // The handle is never closed from here on: the entry has run, and whatever it left
        // (a factory of another API version included) may point into the library.
        guard version == BackendPlugin.apiVersion else {
            throw PluginError.versionMismatch(path: path, plugin: version, expected: BackendPlugin.apiVersion)
        }
        guard let slot else { throw PluginError.noFactory(path: path) }
        let object = Unmanaged<AnyObject>.fromOpaque(slot).takeRetainedValue()
        if let box = object as? BackendPluginFactoryBox { return LoadedPlugin(path: path, factory: box.factory) }
        if let factory = object as? any BackendFactory { return LoadedPlugin(path: path, factory: factory) }
        throw PluginError.wrongFactoryType(path: path, type: String(reflecting: type(of: object)))
    }

    private static func lastDLError() -> String? {
        dlerror().map { String(cString: $0) }
    }
}
