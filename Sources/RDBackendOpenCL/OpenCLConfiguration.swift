import Foundation

/// Settings of the OpenCL backend, normally read from the environment.
public struct OpenCLConfiguration: Sendable, Equatable {
    /// Read `Kernels/<family>.cl` from here instead of the embedded sources (`RDLAB_KERNEL_DIR`).
    public var kernelDirectory: URL?
    /// On-disk program cache; `nil` disables it (`RDLAB_KERNEL_CACHE_DIR`, `off`).
    public var cacheDirectory: URL?
    /// Finish the queue after every kernel, for debugging (`RDLAB_SYNC=1`).
    public var synchronous: Bool
    /// The GEMM/conv tile instead of the device-class table, `TSxWPT` such as `32x8`
    /// (`RDLAB_GEMM_TILE`), for tuning a new device.
    public var gemmTile: String?

    public init(kernelDirectory: URL? = nil, cacheDirectory: URL? = nil, synchronous: Bool = false, gemmTile: String? = nil) {
        self.kernelDirectory = kernelDirectory
        self.cacheDirectory = cacheDirectory
        self.synchronous = synchronous
        self.gemmTile = gemmTile
    }

    /// The configuration the environment asks for; the cache defaults to
    /// `$XDG_CACHE_HOME/rdlab/kernels`, else `~/.cache/rdlab/kernels`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> OpenCLConfiguration {
        let kernels = env["RDLAB_KERNEL_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        var cache: URL?
        switch env["RDLAB_KERNEL_CACHE_DIR"] {
        case "off"?, "0"?, "none"?:
            cache = nil
        case let path? where !path.isEmpty:
            cache = URL(fileURLWithPath: path)
        default:
            let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
            cache = base.appendingPathComponent("rdlab/kernels")
        }
        return OpenCLConfiguration(kernelDirectory: kernels, cacheDirectory: cache, synchronous: env["RDLAB_SYNC"] == "1",
            gemmTile: env["RDLAB_GEMM_TILE"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
