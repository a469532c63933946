import Foundation
import Logging
import RDTestSupport
import Testing

@testable import RDCompute

/// The loader's faults that need no plugin, in process; the faults of real plugins and a run
/// through one are `PluginIntegrationTests` (RDLabCLITests).
@Suite("backend plugin loader")
struct PluginLoaderTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-plugin-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aMissingFileIsNamed() throws {
        let path = try Self.scratch().appendingPathComponent("libnothing.so").path
        #expect(throws: PluginError.fileNotFound(path: path)) { try PluginLoader.load(path) }
    }

    @Test func aRelativePathIsTakenFromTheWorkingDirectoryNotSearched() throws {
        let name = "libz-surely-not-here-\(getpid()).so"
        let expected = FileManager.default.currentDirectoryPath + "/" + name
        #expect(throws: PluginError.fileNotFound(path: expected)) { try PluginLoader.load(name) }
    }

    @Test func aTextFileIsNotLoadableWithDlopensReason() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("libfake.so").path
        try "not an ELF file\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try PluginLoader.load(path)
            Issue.record("a text file loaded")
        } catch let error as PluginError {
            guard case .notLoadable(let where_, let reason) = error else { Issue.record("\(error)"); return }
            #expect(where_ == path && !reason.isEmpty)
            #expect(error.description.contains(path))
        }
    }

    @Test func aLibraryWithoutTheEntrySymbol() throws {
        // procfs reports size 0, so read to the end rather than by size
        let maps = String(decoding: try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile(), as: UTF8.self)
        let mapped = maps.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            .first { $0.hasPrefix("/") && $0.contains("/libc.so") }
        let libc = try #require(mapped)
        #expect(throws: PluginError.missingEntry(path: libc, symbol: "rdlab_backend_plugin")) { try PluginLoader.load(libc) }
    }

    @Test func aPluginCannotReplaceABuiltInFamily() throws {
        let cpu = FakeFactory(name: "cpu", listed: [])
        let registry = BackendRegistry([cpu])
        #expect(throws: PluginError.nameTaken(path: "/p/libcpu.so", name: "cpu", by: "the built-in backend")) {
            try registry.register(plugin: LoadedPlugin(path: "/p/libcpu.so", factory: FakeFactory(name: "cpu", listed: [])))
        }
        try registry.register(plugin: LoadedPlugin(path: "/p/libx.so", factory: FakeFactory(name: "x", listed: [])))
        #expect(registry.pluginPath(of: "x") == "/p/libx.so" && registry.pluginPath(of: "cpu") == nil)
        #expect(throws: PluginError.nameTaken(path: "/q/libx.so", name: "x", by: "the plugin /p/libx.so")) {
            try registry.register(plugin: LoadedPlugin(path: "/q/libx.so", factory: FakeFactory(name: "x", listed: [])))
        }
    }

    /// A name `--backend` could never select is refused at load, naming the file.
    @Test func aPluginNameMustBeSelectable() throws {
        let registry = BackendRegistry([FakeFactory(name: "cpu", listed: [])])
        for name in ["", "auto", "BLAS", "my:blas", "my blas"] {
            #expect(throws: PluginError.invalidName(path: "/p/lib.so", name: name)) {
                try registry.register(plugin: LoadedPlugin(path: "/p/lib.so", factory: FakeFactory(name: name, listed: [])))
            }
        }
        #expect(registry.names == ["cpu"])
    }

    @Test func lenientLoadingWarnsAndGoesOnStrictThrows() throws {
        let path = try Self.scratch().appendingPathComponent("libgone.so").path
        let recorder = LogRecorder()
        let registry = BackendRegistry([FakeFactory(name: "cpu", listed: [])])
        #expect(try registry.loadPlugins([path], strict: false, logger: recorder.logger).isEmpty)
        #expect(recorder.lines.count == 1 && recorder.lines[0].0 == .warning && recorder.lines[0].1.contains(path))
        #expect(throws: PluginError.fileNotFound(path: path)) {
            try registry.loadPlugins([path], strict: true, logger: recorder.logger)
        }
        #expect(registry.names == ["cpu"])
    }
}
