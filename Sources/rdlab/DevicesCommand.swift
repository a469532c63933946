import ArgumentParser
import Foundation
import Logging
import RDBackendOpenCL
import RDCompute

/// `rdlab devices`: every backend and device, with a smoke computation on each.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List every backend and device and run a smoke computation on each.",
        discussion: """
            CPU OpenCL devices (PoCL) are listed and tested too; listing is not selecting: \
            '--backend auto' still never picks them. With --backend (or RDLAB_BACKEND), also shows \
            which backend that request selects, with the same fallback and --strict-backend rules as \
            every other command. Backends loaded with --backend-plugin (or RDLAB_BACKEND_PLUGINS) \
            are listed after the built-in ones, each with the file it came from. Exits 0 when at least the CPU backend passes (and the request, if \
            any, could be honoured or fell back).
            """)

    @OptionGroup var selection: BackendOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        let logger = logging.bootstrap()
        let registry = try selection.registry(logger: logger)
        let requested = selection.backend != nil || ProcessInfo.processInfo.environment["RDLAB_BACKEND"] != nil
        if requested { _ = try selection.request(in: registry) }
        var cpuPassed = false
        print("BACKEND  DEVICE")
        for factory in registry.all {
            let devices: [DeviceDescription]
            do {
                devices = try factory.devices()
            } catch {
                print("\(factory.name.padding(8))  -  FAIL  \(error)")
                continue
            }
            for device in devices {
                let started = Date()
                // a partial backend (a plugin with GEMM only) is checked as selection runs it:
                // the ops it lacks on the CPU backend
                var tile: GemmTileChoice?
                let outcome = Result { () throws -> Int in
                    let backend = try factory.makeBackend(on: device)
                    tile = (backend as? OpenCLBackend)?.gemmTileChoice
                    let missing = Op.allCases.filter { !backend.supports($0) }.count
                    if missing > 0, let cpu = registry.factory(named: BackendRegistry.fallbackName) {
                        try SmokeTest.run(on: OpFallbackBackend(primary: backend,
                            fallback: cpu.makeBackend(on: cpu.devices()[0]), logger: logger))
                    } else {
                        try SmokeTest.run(on: backend)
                    }
                    return missing
                }
                let ms = String(format: "%.0f ms", Date().timeIntervalSince(started) * 1000)
                print("\(factory.name.padding(8))  \(device)" + (registry.pluginPath(of: factory.name).map { "  (plugin \($0))" } ?? ""))
                switch outcome {
                case .success(let missing):
                    let selector = device.kind == .accelerator ? factory.name : device.selector
                    var note = device.kind != .gpu && factory.name != BackendRegistry.fallbackName
                        ? "  (not chosen by auto; select with --backend \(selector))" : ""
                    if missing > 0 { note += "  (\(missing) of \(Op.allCases.count) ops run on the CPU)" }
                    print("          PASS  smoke test in \(ms)\(note)")
                    if let tile { print("          \(Self.describe(tile, of: device))") }
                    if factory.name == BackendRegistry.fallbackName { cpuPassed = true }
                case .failure(let error):
                    print("          FAIL  \(String(describing: error).replacingOccurrences(of: "\n", with: "\n                "))")
                }
            }
        }
        if !cpuPassed { throw ExitCode.failure }
        if requested {
            let chosen = try selection.select(in: registry, logger: logger)
            print("--backend \(chosen.requested) selects \(chosen.backend.device)"
                + (chosen.fallbackReason == nil ? "" : " (fallback)"))
        }
    }
}

extension DevicesCommand {
    /// "gemm tile 64x16 (tuned 2026-11-30, 1.30× the default)", or where else the tile came from.
    static func describe(_ tile: GemmTileChoice, of device: DeviceDescription) -> String {
        switch tile.origin {
        case .table:
            return "gemm tile \(tile.tile) (default table; run `rdlab tune --backend \(device.selector)`)"
        case .environment:
            return "gemm tile \(tile.tile) (RDLAB_GEMM_TILE)"
        case .tuned(let date, let speedup):
            let day = date.formatted(Date.ISO8601FormatStyle().year().month().day())
            return "gemm tile \(tile.tile) (tuned \(day), \(String(format: "%.2f", speedup))× the default)"
        }
    }
}

/// A tiny end-to-end computation: upload, GEMM, unary, reduction, Philox, download.
enum SmokeTest {
    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    static func run(on backend: any Backend) throws {
        let a = try backend.makeBuffer([1, 2, 3, 4, 5, 6])  // 2x3
        let b = try backend.makeBuffer([1, -1, 0, 2, -3, 1])  // 3x2
        let c = try backend.makeBuffer(count: 4)
        try backend.gemm(GemmDescriptor(m: 2, n: 2, k: 3), a: a, b: b, c: c)
        try backend.unary(.relu, c, output: c)
        let total = try backend.makeBuffer(count: 1)
        try backend.reduce(.sum, c, shape: [2, 2], axes: [0, 1], output: total)
        let product = try backend.download(c)
        guard product == [0, 6, 0, 12], try backend.download(total) == [18] else {
            throw Mismatch(description: "GEMM/relu/sum gave \(product), expected [0, 6, 0, 12] summing to 18")
        }
        let noise = try backend.makeBuffer(count: 8)
        try backend.randomUniform(noise, seed: 42, stream: 7, offset: 0)
        let expected = Philox.block(counter: Philox.counter(block: 0, stream: 7), key: Philox.key(seed: 42))
        guard try backend.download(noise)[0..<4].elementsEqual((0..<4).map { Philox.uniform(expected[$0]) }) else {
            throw Mismatch(description: "Philox uniform stream differs from the reference")
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
