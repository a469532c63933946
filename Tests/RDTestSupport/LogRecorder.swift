import Logging

/// Collects log lines so tests can count WARNs and find messages.
public final class LogRecorder: LogHandler, @unchecked Sendable {
    public var lines: [(Logger.Level, String)] = []
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    public func log(event: LogEvent) { lines.append((event.level, "\(event.message)")) }

    /// A logger that writes here.
    public var logger: Logger { Logger(label: "test") { _ in self } }
}
