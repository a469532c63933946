import ArgumentParser
import Foundation
import Logging

/// One line per message on stderr: `[rdlab] WARN message`, so warnings stand out in logs.
struct ConsoleLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let tag = switch event.level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTE"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
        FileHandle.standardError.write(Data("[rdlab] \(tag) \(event.message)\n".utf8))
    }

    /// Installs the handler once; the level comes from `--log-level`, else `RDLAB_LOG_LEVEL`, else info.
    static func bootstrap(level: Logger.Level?) {
        let env = ProcessInfo.processInfo.environment["RDLAB_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        let chosen = level ?? env ?? .info
        LoggingSystem.bootstrap { ConsoleLogHandler(logLevel: chosen, label: $0) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level`, shared by every command.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace | debug | info | notice | warning | error (env RDLAB_LOG_LEVEL).")
    var logLevel: Logger.Level?

    /// Installs the console handler and returns the command's logger.
    func bootstrap() -> Logger {
        ConsoleLogHandler.bootstrap(level: logLevel)
        return Logger(label: "rdlab")
    }
}
