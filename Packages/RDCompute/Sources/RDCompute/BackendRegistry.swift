import Foundation

/// Makes backend instances of one family (`cpu`, `opencl`) and lists its devices.
public protocol BackendFactory: Sendable {
    /// The name used in `--backend NAME[:DEVICE]`.
    var name: String { get }
    /// Every device of this family, CPU-kind devices included. Throws
    /// ``ComputeError/noDevice(backend:reason:)`` when the runtime is unusable (no driver…).
    func devices() throws -> [DeviceDescription]
    /// Opens a backend on `device`; kernels that need compiling are compiled here, so a
    /// broken driver or kernel fails now rather than mid-run.
    func makeBackend(on device: DeviceDescription) throws -> any Backend
}

/// The registered backend families, in registration order (ggml's backend registry).
///
/// The executable registers the concrete backends; the model layer only sees this list.
public final class BackendRegistry: @unchecked Sendable {
    private var factories: [any BackendFactory] = []
    private var pluginPaths: [String: String] = [:]
    private let lock = NSLock()

    public init(_ factories: [any BackendFactory] = []) {
        self.factories = factories
    }

    /// Adds a family; a later registration with the same name replaces the earlier one.
    public func register(_ factory: any BackendFactory) {
        lock.withLock {
            factories.removeAll { $0.name == factory.name }
            factories.append(factory)
        }
    }

    public var all: [any BackendFactory] { lock.withLock { factories } }

    public var names: [String] { all.map(\.name) }

    public func factory(named name: String) -> (any BackendFactory)? {
        all.first { $0.name == name }
    }

    /// The file a family was loaded from, or nil for a built-in family.
    public func pluginPath(of name: String) -> String? {
        lock.withLock { pluginPaths[name] }
    }

    func setPluginPath(_ path: String, for name: String) {
        lock.withLock { pluginPaths[name] = path }
    }
}
