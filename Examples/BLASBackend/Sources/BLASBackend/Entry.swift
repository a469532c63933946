import RDCompute

/// The plugin entry: `rdlab --backend-plugin libRDBLASBackend.so` `dlopen`s this library and calls
/// this symbol (``BackendPlugin/entrySymbol``), which hands over the `blas` factory and returns
/// the plugin API version this library was built against.
@_cdecl("rdlab_backend_plugin")
public func rdlabBackendPlugin(_ factory: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    BackendPlugin.export(OpenBLASBackendFactory(), to: factory)
}
