/// Errors raised by the compute layer and its backends.
///
/// Every case carries enough context to act on without a debugger: the device at fault,
/// the kernel and its build log, the op that is missing.
import Foundation

public enum ComputeError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A device program failed to compile. `log` is the compiler's full build log.
    case kernelBuild(kernel: String, options: String, device: String, log: String)
    /// The device could not satisfy an allocation.
    case outOfDeviceMemory(device: String, requestedBytes: Int)
    /// The backend does not implement an op (see ``Backend/supports(_:)``).
    case unsupported(op: String, backend: String, reason: String)
    /// No usable device for the request; `reason` says why (no driver, no platform, …).
    case noDevice(backend: String, reason: String)
    /// A buffer of one backend instance was passed to another.
    case backendMismatch(expected: String, found: String)
    /// A backend name that is not registered.
    case unknownBackend(name: String, valid: [String])
    /// Shapes, sizes or parameters that do not fit the op.
    case invalidArgument(op: String, reason: String)
    /// A driver call failed.
    case driver(call: String, code: Int32, device: String)

    /// The description on one line, for log lines; a build failure points at the full log.
    public var summary: String {
        if case let .kernelBuild(kernel, _, device, _) = self {
            return "kernel build failed: \(kernel) on \(device) (use --strict-backend to see the build log)"
        }
        return description.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    public var description: String {
        switch self {
        case let .kernelBuild(kernel, options, device, log):
            return "kernel build failed: \(kernel) on \(device) (options: \(options.isEmpty ? "none" : options))\n"
                + "--- build log ---\n\(log)\n--- end of build log ---"
        case let .outOfDeviceMemory(device, bytes):
            return "out of device memory on \(device): could not allocate \(bytes) bytes"
        case let .unsupported(op, backend, reason):
            return "op \(op) is not supported by backend \(backend): \(reason)"
        case let .noDevice(backend, reason):
            return "no usable \(backend) device: \(reason)"
        case let .backendMismatch(expected, found):
            return "buffer belongs to backend \(found) but was used on \(expected); copy it explicitly"
        case let .unknownBackend(name, valid):
            return "unknown backend '\(name)'; valid backends: \(valid.joined(separator: ", "))"
        case let .invalidArgument(op, reason):
            return "\(op): \(reason)"
        case let .driver(call, code, device):
            return "\(call) failed with error \(code) on \(device)"
        }
    }
}
