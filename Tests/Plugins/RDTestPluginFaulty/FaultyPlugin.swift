import Foundation
import RDCompute

/// Not a factory: what a plugin built against another RDCompute looks like to rdlab.
final class NotABackendFactory {}

/// A plugin entry that misbehaves as `RDLAB_TEST_PLUGIN_FAULT` says, for the loader's fault
/// tests: `version` (the default) reports API version 999, `type` hands over an object that is
/// not a factory, `null` hands over nothing.
@_cdecl("rdlab_backend_plugin")
public func rdlabBackendPlugin(_ factory: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    switch getenv("RDLAB_TEST_PLUGIN_FAULT").map({ String(cString: $0) }) {
    case "type":
        factory?.pointee = Unmanaged.passRetained(NotABackendFactory()).toOpaque()
        return BackendPlugin.apiVersion
    case "null":
        factory?.pointee = nil
        return BackendPlugin.apiVersion
    default:
        factory?.pointee = nil
        return 999
    }
}
