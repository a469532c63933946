import Foundation
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

    /// RDTestPlugin is a correct plugin, but SwiftPM links RDCompute into it statically and
    /// Swift's protected visibility binds it to that copy, so its factory is of another
    /// RDCompute's types: the loader must refuse it by name, never run it.
    @Test func aPluginWithItsOwnRDComputeIsRefusedNotRun() throws {
        let path = try Self.plugin
        let out = try RDLabProcess.run(["devices", "--backend-plugin", path])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.warnings.count == 1, "\(out.stderr)")
        #expect(out.warnings.first?.contains("backend plugin \(path) returned a RDCompute.BackendPluginFactoryBox, not an RDCompute BackendFactory of this rdlab") == true,
            "\(out.stderr)")
        #expect(out.stdout.contains("cpu:0") && !out.stdout.contains("testplugin"))
        let named = try RDLabProcess.run(["devices", "--backend-plugin", path, "--backend", "testplugin:0"])
        #expect(named.status != 0 && named.stderr.contains("unknown backend 'testplugin:0'"), "\(named.stderr)")
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
