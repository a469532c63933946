import Foundation

/// Runs the built `rdlab` executable (a dependency of this test target) and captures its output.
struct RDLabProcess {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
        var warnings: [String] { stderr.split(separator: "\n").map(String.init).filter { $0.contains(" WARN ") } }
    }

    /// `.build/<config>/rdlab`, next to the test bundle, or `RDLAB_BINARY`.
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["RDLAB_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = Bundle.main.bundleURL
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("rdlab")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rdlab")
    }

    /// Runs `rdlab arguments…` with the environment changed by `environment` (nil removes a key).
    static func run(_ arguments: [String], environment: [String: String?] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["RDLAB_BACKEND", "RDLAB_STRICT_BACKEND", "RDLAB_LOG_LEVEL", "RDLAB_KERNEL_DIR"] { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Whether this machine has a PoCL device (it does in CI, which installs pocl-opencl-icd).
    static let hasPoCL: Bool = (try? run(["devices"]).stdout.contains("Portable Computing Language")) ?? false

    static var openCLRequired: Bool { ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_OPENCL"] == "1" }
}
