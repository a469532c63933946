import Foundation
import RDCompute
import Testing

/// Backend plugins as a user meets them: `--backend-plugin` / `RDLAB_BACKEND_PLUGINS`, one
/// message per fault naming the file, a WARN without --strict-backend and an error exit with it.
@Suite("rdlab backend plugins", .serialized)
struct PluginIntegrationTests {
    /// A SwiftPM `.dynamic` product of this package, built beside `rdlab` and linked by nothing.
    static func library(_ name: String) throws -> String {
        let url = RDLabProcess.executable.deletingLastPathComponent().appendingPathComponent("lib\(name).so")
        try #require(FileManager.default.fileExists(atPath: url.path), "\(url.path) not built; run swift build")
        return url.path
    }

    static var plugin: String { get throws { try library("RDTestPlugin") } }
    static var faulty: String { get throws { try library("RDTestPluginFaulty") } }

    /// A real shared library without the entry symbol: the zlib this test process has loaded.
    static func libz() throws -> String {
        // procfs reports size 0, so read to the end rather than by size
        let maps = String(decoding: try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile(), as: UTF8.self)
        let path = maps.split(separator: "\n").compactMap { line in line.split(separator: " ").last.map(String.init) }
            .first { $0.hasPrefix("/") && $0.contains("/libz.so") }
        return try #require(path, "no libz.so mapped into the test process")
    }

    @Test func rdlabDoesNotLinkThePlugin() throws {
        let ldd = Process()
        ldd.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        ldd.arguments = [RDLabProcess.executable.path]
        let out = Pipe()
        ldd.standardOutput = out
        try ldd.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ldd.waitUntilExit()
        #expect(!text.isEmpty && !text.contains("RDTestPlugin"))
    }

    /// RDTestPlugin links the libRDCompute.so that rdlab links, so its backend is rdlab's: listed
    /// beside the built-in families, smoke-tested, and named like any other family.
    @Test func aPluginBackendIsListedBesideTheBuiltInOnes() throws {
        let path = try Self.plugin
        let out = try RDLabProcess.run(["devices", "--backend-plugin", path])
        #expect(out.status == 0 && out.warnings.isEmpty, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        let listed = try #require(lines.firstIndex { $0.hasPrefix("testplugin") }, "\(out.stdout)")
        #expect(lines[listed].contains("testplugin:0 naive GEMM in a plugin") && lines[listed].contains("(plugin \(path))"))
        #expect(lines[listed + 1].contains("PASS") && lines[listed + 1].contains("select with --backend testplugin)")
            && lines[listed + 1].contains("(\(Self.opCount - 1) of \(Self.opCount) ops run on the CPU)"), "\(out.stdout)")
        #expect(lines.firstIndex { $0.hasPrefix("cpu") }! < listed)
        let named = try RDLabProcess.run(["devices", "--backend-plugin", path, "--backend", "testplugin"])
        #expect(named.status == 0 && named.stdout.contains("--backend testplugin selects testplugin:0"), "\(named.stderr)")
    }

    static let opCount = Op.allCases.count

    /// Trains the small VAE of the plugin tests (fixtures, 2 epochs of 100 examples, batch 50)
    /// with `backend` into `root/name`: the output and the per-epoch −ELBO.
    static func trainSmallVAE(_ backend: [String], in root: URL, name: String) throws -> (RDLabProcess.Output, [Double]) {
        let run = root.appendingPathComponent(name)
        let out = try RDLabProcess.run(["train", "--data-dir", TrainIntegrationTests.dataDirectory, "--train-limit", "100",
            "--test-limit", "50", "--batch-size", "50", "--latent-dim", "4", "--seed", "4", "--epochs", "2",
            "--out", run.path] + backend)
        let text = (try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? ""
        let losses = text.split(separator: "\n").compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?["neg_elbo_nats"] as? Double
        }
        return (out, losses)
    }

    /// A plugin that has only GEMM trains the VAE: every other op runs on the CPU backend, the
    /// transfers are reported, and the losses are the CPU backend's (the plugin's naive GEMM
    /// sums in another order than the CPU's blocked one, so to 1e-4, not bit for bit).
    @Test func aPartialPluginTrainsTheVAEThroughOpFallback() throws {
        let root = try RDLabProcess.temporaryDirectory("plugin-train")
        defer { try? FileManager.default.removeItem(at: root) }
        let (plugin, pluginLosses) = try Self.trainSmallVAE(["--backend-plugin", try Self.plugin, "--backend", "testplugin",
            "--allow-op-fallback"], in: root, name: "plugin")
        #expect(plugin.status == 0, "\(plugin.stderr)")
        #expect(plugin.stderr.contains("backend testplugin:0 naive GEMM in a plugin"), "\(plugin.stderr)")
        #expect(plugin.stderr.contains("transfers"), "\(plugin.stderr)")
        #expect(plugin.warnings.isEmpty, "\(plugin.stderr)")
        let (cpu, cpuLosses) = try Self.trainSmallVAE(["--backend", "cpu"], in: root, name: "cpu")
        #expect(cpu.status == 0, "\(cpu.stderr)")
        #expect(!cpuLosses.isEmpty && pluginLosses.count == cpuLosses.count)
        for (p, c) in zip(pluginLosses, cpuLosses) {
            #expect(abs(p - c) <= 1e-4 * abs(c), "plugin loss \(p) vs cpu \(c)")
        }
    }

    /// `rdlab selftest` checks a plugin from the binary alone: its GEMM against the Double
    /// references, every op it lacks UNSUPPORTED (or, with --allow-op-fallback, run on the CPU).
    @Test func selftestChecksAPluginBackend() throws {
        let path = try Self.plugin
        let out = try RDLabProcess.run(["selftest", "--backend-plugin", path, "--backend", "testplugin", "--op", "^gemm"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("testplugin:0"), "\(out.stdout)")
        let results = out.stdout.split(separator: "\n").filter { $0.contains(" gemm ") }
        #expect(!results.isEmpty && results.allSatisfy { $0.contains("PASS") }, "\(out.stdout)")
        let lacking = try RDLabProcess.run(["selftest", "--backend-plugin", path, "--backend", "testplugin", "--op", "^unary$"])
        #expect(lacking.status == 0 && lacking.stdout.contains("UNSUPPORTED"), "\(lacking.stdout)")
    }

    /// Each fault: its own message naming the file, a WARN and the CPU without --strict-backend,
    /// an error exit with it.
    @Test(arguments: ["missing", "text", "nosymbol", "version", "type", "null"])
    func faultsNameTheFileAndTheReason(_ fault: String) throws {
        let scratch = try RDLabProcess.temporaryDirectory("plugin-fault")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var environment: [String: String?] = [:]
        let path: String, message: String
        switch fault {
        case "missing":
            path = scratch.appendingPathComponent("libabsent.so").path
            message = "backend plugin \(path): no such file"
        case "text":
            path = scratch.appendingPathComponent("libtext.so").path
            try "not a library\n".write(toFile: path, atomically: true, encoding: .utf8)
            message = "backend plugin \(path) is not a loadable shared library: "
        case "nosymbol":
            path = try Self.libz()
            message = "does not export the entry symbol 'rdlab_backend_plugin'"
        case "version":
            path = try Self.faulty
            message = "speaks plugin API version 999, this rdlab speaks 1"
        case "type":
            path = try Self.faulty
            environment["RDLAB_TEST_PLUGIN_FAULT"] = "type"
            message = "NotABackendFactory, not an RDCompute BackendFactory"
        default:
            path = try Self.faulty
            environment["RDLAB_TEST_PLUGIN_FAULT"] = "null"
            message = "returned no factory"
        }
        let lenient = try RDLabProcess.run(["devices", "--backend-plugin", path], environment: environment)
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.warnings.count == 1, "\(lenient.stderr)")
        #expect(lenient.warnings.first?.contains(message) == true, "\(lenient.stderr)")
        #expect(lenient.warnings.first?.contains(path) == true)
        #expect(lenient.stdout.contains("cpu:0"))
        var strictEnvironment = environment
        strictEnvironment["RDLAB_BACKEND_PLUGINS"] = path
        for (arguments, env) in [(["devices", "--backend-plugin", path, "--strict-backend"], environment),
            (["devices"], strictEnvironment.merging(["RDLAB_STRICT_BACKEND": "1"]) { $1 })] {
            let strict = try RDLabProcess.run(arguments, environment: env)
            #expect(strict.status != 0)
            #expect(strict.stderr.contains("error: ") && strict.stderr.contains(message), "\(strict.stderr)")
            #expect(strict.stdout.isEmpty)
        }
    }
}
