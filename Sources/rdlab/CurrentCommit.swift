import Foundation

/// The commit of the checkout that holds the rdlab executable (`.build/…/rdlab`), whatever the
/// working directory; `RDLAB_COMMIT` overrides it, and it is "unknown" outside a git checkout.
func currentCommit() -> String {
    if let commit = ProcessInfo.processInfo.environment["RDLAB_COMMIT"] { return commit }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "--short=12", "HEAD"]
    process.currentDirectoryURL = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "unknown" }
    process.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
}
