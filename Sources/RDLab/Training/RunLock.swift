import Foundation
import RDCompute
import RDFiles

/// One writer per run directory: an exclusive `flock` on `OUT/lock`, held for as long as the
/// ``RunLock`` lives. The file names the holder (pid, host, start time), so a second process
/// can say who has the directory. The kernel drops the lock when its holder dies, whatever
/// the cause; a lock file that still names a holder but can be locked was left by a process
/// that died, and is taken over. A holder that finishes cleanly empties the file.
public final class RunLock {
    /// Who holds (or held) the lock.
    public struct Holder: Codable, Equatable, Sendable, CustomStringConvertible {
        public var pid: Int32
        public var host: String
        public var started: String

        public var description: String { "pid \(pid) on \(host), started \(started)" }

        /// Whether the named process still runs on this host (`nil`: it runs on another host, so
        /// this one cannot tell).
        public var isAlive: Bool? {
            guard host == ProcessInfo.processInfo.hostName else { return nil }
            return kill(pid, 0) == 0 || errno == EPERM
        }

        public static var current: Holder {
            Holder(pid: getpid(), host: ProcessInfo.processInfo.hostName,
                started: ISO8601DateFormatter().string(from: Date()))
        }
    }

    public let url: URL
    /// The holder the lock file named when this process took the lock over from a dead one.
    public let previousHolder: Holder?
    private let descriptor: Int32

    /// Takes the lock of `directory` (creating it), or throws ``RunLockError/held(_:by:)``
    /// at once when another process holds it.
    public init(directory: URL) throws {
        try AtomicFile.createDirectory(directory)
        url = directory.appendingPathComponent("lock")
        descriptor = try Self.lockedFile(url, directory: directory)
        previousHolder = Self.holder(descriptor)
        // A failure here runs deinit (every property is set), which closes the file.
        try write(JSONEncoder.rdlab(pretty: false).encode(Holder.current) + Data([0x0A]))
    }

    deinit {
        _ = try? write(Data())
        close(descriptor)
    }

    /// Opens and locks `url`. The lock belongs to the open file, so it is taken again when the
    /// name was removed or replaced meanwhile (the lock would guard a file nobody else opens);
    /// a symbolic link is refused rather than followed.
    private static func lockedFile(_ url: URL, directory: URL) throws -> Int32 {
        while true {
            let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { throw FileSystemError.last(.lock, path: url.path) }
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if errno == EINTR { continue }
                let code = errno
                let holder = Self.holder(fd)
                close(fd)
                if code == EWOULDBLOCK { throw RunLockError.held(directory.path, by: holder) }
                throw FileSystemError(.lock, path: url.path, code: code)
            }
            var opened = stat(), named = stat()
            if fstat(fd, &opened) == 0, lstat(url.path, &named) == 0, opened.st_dev == named.st_dev, opened.st_ino == named.st_ino {
                return fd
            }
            close(fd)
        }
    }

    /// Replaces the lock file's contents (the lock is on the open file, not its name).
    private func write(_ data: Data) throws {
        guard ftruncate(descriptor, 0) == 0 else { throw FileSystemError.last(.write, path: url.path) }
        try data.withUnsafeBytes { raw in
            guard raw.isEmpty || pwrite(descriptor, raw.baseAddress, raw.count, 0) == raw.count else {
                throw FileSystemError.last(.write, path: url.path)
            }
        }
        guard fsync(descriptor) == 0 else { throw FileSystemError.last(.sync, path: url.path) }
    }

    /// The process the lock of `directory` names, read without taking the lock (a reader
    /// that took it, even shared, could turn a starting writer away). A holder that finished
    /// cleanly emptied the file; one that died still appears here (see ``Holder/isAlive``).
    public static func holder(of directory: URL) -> Holder? {
        let fd = open(directory.appendingPathComponent("lock").path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return holder(fd)
    }

    /// The holder the open lock file names, if it names one.
    private static func holder(_ fd: Int32) -> Holder? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &bytes, bytes.count, 0)
        guard n > 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(Holder.self, from: Data(bytes[0..<n]).prefix { $0 != 0x0A })
    }
}

/// Another process writes to the run directory.
public enum RunLockError: ReportableError, Equatable {
    case held(String, by: RunLock.Holder?)

    /// `rdlab`'s exit status when the run directory is taken: `EX_TEMPFAIL`, so a sweep runner
    /// can tell "trained elsewhere right now" from a failure.
    public static let exitStatus: Int32 = 75

    public var description: String {
        switch self {
        case let .held(directory, holder):
            "\(directory) is in use by another rdlab process (\(holder?.description ?? "holder unknown")); "
                + "wait for it to finish or stop it, or use another --out"
        }
    }
}
