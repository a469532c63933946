import Foundation
import RDCompute

/// A file-system call that failed, in plain words: what was being done, to which path, and why
/// (`cannot write /runs/a/checkpoint.safetensors: no space left on device`).
public struct FileSystemError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What rdlab was doing when the call failed.
    public enum Operation: String, Sendable {
        case read, write, createDirectory = "create the directory", rename = "replace", sync = "flush to disk of"
        case lock, remove, open
    }

    public let operation: Operation
    public let path: String
    /// The `errno` of the failed call.
    public let code: Int32

    public init(_ operation: Operation, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The error of the call that just failed (reads `errno`).
    public static func last(_ operation: Operation, path: String) -> FileSystemError {
        FileSystemError(operation, path: path, code: errno)
    }

    /// The cause in words a person reads without a manual.
    public var cause: String {
        switch code {
        case ENOSPC: "no space left on device"
        case EDQUOT: "disk quota exceeded"
        case EROFS: "read-only file system"
        case EACCES, EPERM: "permission denied"
        case EEXIST: "already exists"
        case ENOENT: "no such file or directory"
        case ENOTDIR: "a part of the path is not a directory"
        case EISDIR: "is a directory"
        case EFBIG: "file too large"
        case EIO: "input/output error (is the disk failing?)"
        default: String(cString: strerror(code)).lowercased()
        }
    }

    public var description: String { "cannot \(operation.rawValue) \(path): \(cause)" }
}

extension FileSystemError: ReportableError {}
