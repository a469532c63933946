import Foundation

/// Durable whole-file writes: a temporary file in the target's directory, written and
/// `fsync`ed, renamed over the target, then the directory `fsync`ed — so a reader sees the
/// old file or the new one, never a part, and the new one survives a power cut once
/// ``write(_:to:)`` returns. Every failure is a ``FileSystemError`` naming the path.
public enum AtomicFile {
    /// Writes `data` to `url` (creating missing directories).
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try createDirectory(directory)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try writeAndSync(data, to: temporary.path)
            guard rename(temporary.path, url.path) == 0 else { throw FileSystemError.last(.rename, path: url.path) }
        } catch let error as FileSystemError {
            unlink(temporary.path)
            throw FileSystemError(error.operation, path: url.path, code: error.code)  // the file meant, not its temporary
        }
        try syncDirectory(directory.path)
    }

    /// Whether `name` is a temporary file that ``write(_:to:)`` makes for `target`
    /// (`.<target>.<pid>.<random>.tmp`).
    public static func isTemporary(_ name: String, of target: String) -> Bool {
        let prefix = ".\(target).", suffix = ".tmp"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return false }
        let numbers = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false)
        return numbers.count == 2 && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// Removes the temporary files an interrupted ``write(_:to:)`` of one of `targets` left in
    /// `directory` (nothing else); returns their names. Call it only while no other process
    /// writes there (a run holds its lock).
    @discardableResult
    public static func removeInterruptedWrites(of targets: [String], in directory: URL) throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let stale = names.filter { name in targets.contains { isTemporary(name, of: $0) } }.sorted()
        for name in stale {
            let path = directory.appendingPathComponent(name).path
            guard unlink(path) == 0 || errno == ENOENT else { throw FileSystemError.last(.remove, path: path) }
        }
        return stale
    }

    /// The contents of a file, or a ``FileSystemError`` saying why not.
    public static func read(_ url: URL) throws -> Data {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.last(.read, path: url.path) }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.last(.read, path: url.path)
            }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
        }
    }

    /// Cuts `url` to its first `length` bytes and flushes it to disk.
    public static func truncate(_ url: URL, to length: Int) throws {
        let fd = open(url.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.last(.write, path: url.path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw FileSystemError.last(.write, path: url.path) }
        guard fsync(fd) == 0 else { throw FileSystemError.last(.sync, path: url.path) }
    }

    /// `mkdir -p`: creates `url` and its missing parents, each made durable in its parent; the
    /// error names `url` and the cause.
    public static func createDirectory(_ url: URL) throws {
        if mkdir(url.path, 0o755) == 0 { return try syncDirectory(url.deletingLastPathComponent().path) }
        switch errno {
        case EEXIST:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw FileSystemError(.createDirectory, path: url.path, code: EEXIST)
            }
        case ENOENT where url.deletingLastPathComponent().path != url.path:
            do {
                try createDirectory(url.deletingLastPathComponent())
            } catch let error as FileSystemError {
                throw FileSystemError(.createDirectory, path: url.path, code: error.code)
            }
            guard mkdir(url.path, 0o755) == 0 || errno == EEXIST else { throw FileSystemError.last(.createDirectory, path: url.path) }
            try syncDirectory(url.deletingLastPathComponent().path)
        default:
            throw FileSystemError.last(.createDirectory, path: url.path)
        }
    }

    static func writeAndSync(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystemError.last(.write, path: path) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.last(.write, path: path)
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw FileSystemError.last(.sync, path: path) }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.last(.open, path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 || errno == EINVAL else { throw FileSystemError.last(.sync, path: path) }
    }
}
