import Foundation
import Testing

/// The out-of-tree example plugin `Examples/BLASBackend` (OpenBLAS: GEMM and the three conv
/// passes; everything else on the CPU through op fallback) as its README tells a user to use it:
/// built with `swift build --package-path Examples/BLASBackend` in the configuration of the rdlab
/// under test (the ABI rule: same compiler, same RDCompute sources, same configuration), loaded
/// into the stock binary with `--backend-plugin`, checked by `selftest`, training the VAE, and
/// measured by `bench` beside the CPU backend.
@Suite("rdlab BLAS example plugin", .serialized)
struct BLASPluginTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Why the example did not build: the command and everything it printed.
    struct BuildFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// `debug` when the rdlab under test is a debug build (`.build/…/debug/rdlab`), else `release`.
    static var configuration: String {
        RDLabProcess.executable.path.contains("/debug/") ? "debug" : "release"
    }

    /// Runs `swift ARGUMENTS… --package-path Examples/BLASBackend` through `/usr/bin/env` with this
    /// process's environment; a failure carries the command and everything it printed.
    static func swift(_ arguments: [String]) -> Result<String, BuildFailure> {
        let command = ["swift"] + arguments + ["--package-path", package.path]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = ProcessInfo.processInfo.environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            return .failure(BuildFailure(description: "could not start \(command.joined(separator: " ")): \(error)"))
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let hint = arguments.first == "build" ? " (does this machine have libopenblas-dev? scripts/bootstrap.sh installs it)" : ""
            return .failure(BuildFailure(description: """
                \(command.joined(separator: " ")) failed with exit status \(process.terminationStatus)\(hint):
                \(text)
                """))
        }
        return .success(text)
    }

    static let package = repository.appendingPathComponent("Examples/BLASBackend")

    /// Builds the example once per test process and returns the path of `libRDBLASBackend.so`.
    static let built: Result<String, BuildFailure> = {
        swift(["build"] + (configuration == "debug" ? [] : ["-c", "release"])).flatMap { text in
            let library = package.appendingPathComponent(".build/\(configuration)/libRDBLASBackend.so").path
            guard FileManager.default.fileExists(atPath: library) else {
                return .failure(BuildFailure(description: "the build succeeded but left no \(library)\n\(text)"))
            }
            return .success(library)
        }
    }()

    static var plugin: String { get throws { try built.get() } }

    /// `rdlab selftest` runs every GEMM and conv parity case on OpenBLAS against the Double
    /// references: all PASS (the fused conv op is not the plugin's: plans do not fuse there).
    @Test func selftestPassesGemmAndConvolutions() throws {
        let out = try RDLabProcess.run(["selftest", "--backend-plugin", try Self.plugin, "--backend", "blas",
            "--op", "^(gemm|conv2d(Forward|Backward))"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        #expect(out.stdout.contains("blas:0"), "\(out.stdout)")
        // One line per op, `STATUS  op  N cases …`, then the summary (`N ops, M cases: …`).
        let results = out.stdout.split(separator: "\n").filter { $0.contains(" cases") && !$0.contains(" ops, ") }
        let ops = ["gemm", "conv2dForward", "conv2dBackwardData", "conv2dBackwardFilter"]
        #expect(ops.allSatisfy { op in results.contains { $0.split(separator: " ").dropFirst().first == Substring(op) } },
            "\(out.stdout)")
        #expect(results.allSatisfy { $0.hasPrefix("PASS") }, "\(out.stdout)")
    }

    /// An op the plugin leaves to the CPU is UNSUPPORTED in a selftest without --allow-op-fallback.
    @Test func selftestShowsALackingOpAsUnsupported() throws {
        let out = try RDLabProcess.run(["selftest", "--backend-plugin", try Self.plugin, "--backend", "blas", "--op", "^unary$"])
        #expect(out.status == 0 && out.stdout.contains("UNSUPPORTED"), "\(out.stdout)\n\(out.stderr)")
    }

    /// The VAE trains on `--backend blas` with no further flag: one WARN names the ops that run
    /// on the CPU, the transfers are reported, and the per-epoch losses are the CPU backend's to
    /// a relative 1e-4 (OpenBLAS sums in another order than rdlab's GEMM and conv kernels).
    @Test func trainsTheVAEWithTheRestOnTheCPU() throws {
        let root = try RDLabProcess.temporaryDirectory("blas-train")
        defer { try? FileManager.default.removeItem(at: root) }
        let (blas, blasLosses) = try PluginIntegrationTests.trainSmallVAE(["--backend-plugin", try Self.plugin, "--backend", "blas"],
            in: root, name: "blas")
        #expect(blas.status == 0, "\(blas.stderr)")
        #expect(blas.stderr.contains("backend blas:0 OpenBLAS"), "\(blas.stderr)")
        #expect(blas.stderr.contains("transfers"), "\(blas.stderr)")
        #expect(blas.warnings.count == 1 && blas.warnings[0].contains("lacks") && blas.warnings[0].contains("run on cpu"),
            "without --strict-backend the op fallback is one WARN: \(blas.stderr)")
        let (cpu, cpuLosses) = try PluginIntegrationTests.trainSmallVAE(["--backend", "cpu"], in: root, name: "cpu")
        #expect(cpu.status == 0, "\(cpu.stderr)")
        #expect(!cpuLosses.isEmpty && blasLosses.count == cpuLosses.count, "blas \(blasLosses), cpu \(cpuLosses)")
        for (b, c) in zip(blasLosses, cpuLosses) {
            #expect(abs(b - c) <= 1e-4 * abs(c), "blas loss \(b) vs cpu \(c)")
        }
    }

    /// The example's own tests (in process, against naive references: many im2col chunks,
    /// transposes and β, bad sizes that must throw); `@testable`, so always a debug build.
    @Test func theExamplesOwnTestsPass() throws {
        _ = try Self.swift(["test"]).get()
    }

    /// `rdlab bench` measures OpenBLAS's SGEMM beside rdlab's CPU GEMM: one row each.
    @Test func benchShowsBothBackends() throws {
        let out = try RDLabProcess.run(["bench", "--backend", "cpu", "--backend", "blas", "--backend-plugin", try Self.plugin,
            "--op", "^gemm square 1024", "--budget", "0.1"])
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        let rows = out.stdout.split(separator: "\n").filter { $0.hasPrefix("gemm square 1024") }
        #expect(rows.contains { $0.contains("cpu:0") } && rows.contains { $0.contains("blas:0") }, "\(out.stdout)")
    }
}
