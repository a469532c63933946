import Foundation
import Synchronization

/// SIGINT and SIGTERM set a flag that long loops poll (training steps, evaluation batches,
/// sampling passes), so a run stops within one batch with its state saved.
public enum StopSignal {
    /// Written by the handler: a lock-free atomic store is async-signal-safe.
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers and unblocks both signals (a parent may have left them blocked).
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialise the static before a handler can touch it
        signal(SIGINT) { StopSignal.received.store($0, ordering: .relaxed) }
        signal(SIGTERM) { StopSignal.received.store($0, ordering: .relaxed) }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Stops long loops as if `signal` had arrived (a watcher that finds its parent gone).
    public static func request(_ signal: Int32) {
        received.store(signal, ordering: .relaxed)
    }

    /// The signal received, if any.
    public static var pending: Int32? {
        let signal = received.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }

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
