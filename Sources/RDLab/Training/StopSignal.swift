import Foundation

/// SIGINT and SIGTERM set a flag that long loops poll (training steps, evaluation batches,
/// sampling passes), so a run stops within one batch with its state saved.
public enum StopSignal {
    nonisolated(unsafe) private static var received: Int32 = 0

    /// Installs the handlers and unblocks both signals (a parent may have left them blocked).
    public static func install() {
        signal(SIGINT) { StopSignal.received = $0 }
        signal(SIGTERM) { StopSignal.received = $0 }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The signal received, if any.
    public static var pending: Int32? { received == 0 ? nil : received }

    /// Throws ``Interrupted`` once a signal has arrived.
    public static func check() throws {
        if let signal = pending { throw Interrupted(signal: signal) }
    }
}

/// Work abandoned because SIGINT or SIGTERM arrived; the process exits with 128 + `signal`.
public struct Interrupted: Error, CustomStringConvertible {
    public let signal: Int32

    public var description: String { "stopped by signal \(signal)" }
}
