import Foundation

/// Training progress on stderr: a bar with ETA and running R/D on a terminal, a plain line
/// every `interval` seconds otherwise (logs, CI).
struct Progress {
    let total: Int
    let interval: TimeInterval
    let interactive = isatty(STDERR_FILENO) != 0
    private let started = Date()
    private var lastPrint = Date.distantPast
    private var completedAtStart: Int

    init(total: Int, alreadyDone: Int, interval: TimeInterval = 10) {
        self.total = max(total, 1)
        self.interval = interval
        completedAtStart = alreadyDone
    }

    mutating func update(step: Int, epoch: Int, epochs: Int, rate: Double, distortion: Double, force: Bool = false) {
        let now = Date()
        guard force || interactive || now.timeIntervalSince(lastPrint) >= interval else { return }
        if interactive && !force && now.timeIntervalSince(lastPrint) < 0.1 { return }
        lastPrint = now
        let done = step - completedAtStart
        let elapsed = now.timeIntervalSince(started)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
        let fraction = Double(step) / Double(total)
        let status = String(format: "epoch %d/%d step %d/%d R %.2f D %.2f -ELBO %.2f ETA %@", epoch + 1, epochs, step, total,
            rate, distortion, rate + distortion, eta.durationText)
        if interactive {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r%3.0f%% |%@| %@", fraction * 100, bar, status).utf8))
        } else {
            FileHandle.standardError.write(Data("[rdlab] \(status)\n".utf8))
        }
    }

    func finishLine() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
