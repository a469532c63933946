import Foundation

/// An `rdlab` process left running, whose stderr can be watched for a line, then signalled.
final class RunningRDLab: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var buffer = Data()

    init(_ arguments: [String], environment: [String: String?] = [:]) throws {
        process.executableURL = RDLabProcess.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["RDLAB_BACKEND", "RDLAB_STRICT_BACKEND", "RDLAB_LOG_LEVEL", "RDLAB_KERNEL_DIR", "RDLAB_MEMORY_BUDGET"] { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.withLock { self.buffer.append(chunk) }
        }
        try process.run()
    }

    var stderr: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }

    /// Waits until stderr contains `text` (true) or the process ends or `timeout` passes (false).
    func waitFor(_ text: String, timeout: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(5_000)
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit; the status, or 128 + the signal that killed it.
    @discardableResult
    func wait() -> Int32 {
        process.waitUntilExit()
        usleep(50_000)  // the last of stderr
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}
