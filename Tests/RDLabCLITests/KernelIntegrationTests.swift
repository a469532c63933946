import Foundation
import Testing

/// Kernel sources from RDLAB_KERNEL_DIR and the on-disk program cache, across processes.
@Suite("rdlab kernels and cache", .serialized)
struct KernelIntegrationTests {
    /// The repository's Kernels/ folder (the test runs from the package root or below it).
    static func kernelsDirectory() throws -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Kernels")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("gemm.cl").path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile)
    }

    @Test func brokenKernelFailsWithTheBuildLog() throws {
        guard RDLabProcess.hasPoCL else {
            #expect(!RDLabProcess.openCLRequired)
            return
        }
        let broken = try RDLabProcess.temporaryDirectory("kernels")
        defer { try? FileManager.default.removeItem(at: broken) }
        for file in try FileManager.default.contentsOfDirectory(atPath: try Self.kernelsDirectory().path) {
            try FileManager.default.copyItem(at: try Self.kernelsDirectory().appendingPathComponent(file),
                to: broken.appendingPathComponent(file))
        }
        let optim = broken.appendingPathComponent("optim.cl")
        try (String(contentsOf: optim, encoding: .utf8) + "\n__kernel void oops(__global float* x) { x[0] = not_declared_here; }\n")
            .write(to: optim, atomically: true, encoding: .utf8)
        let env: [String: String?] = ["RDLAB_KERNEL_DIR": broken.path]
        let strict = try RDLabProcess.run(["devices", "--backend", "opencl:pocl", "--strict-backend"], environment: env)
        #expect(strict.status != 0)
        #expect(strict.stderr.contains("kernel build failed: optim.cl"))
        #expect(strict.stderr.contains("not_declared_here"), "the compiler's build log is in the error")
        let lenient = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"], environment: env)
        #expect(lenient.status == 0)
        #expect(lenient.warnings.count == 1)
        #expect(lenient.warnings.first?.contains("kernel build failed: optim.cl") == true)
        #expect(lenient.stdout.contains("selects cpu:0"))
    }

    @Test func secondProcessHitsTheDiskCacheAndACorruptEntryIsRebuilt() throws {
        guard RDLabProcess.hasPoCL else {
            #expect(!RDLabProcess.openCLRequired)
            return
        }
        let cache = try RDLabProcess.temporaryDirectory("cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let env: [String: String?] = ["RDLAB_KERNEL_CACHE_DIR": cache.path, "RDLAB_LOG_LEVEL": "debug"]
        let first = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"], environment: env)
        #expect(first.stderr.contains("kernel cache miss: gemm"))
        #expect(!first.stderr.contains("kernel cache hit"))
        let second = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"], environment: env)
        #expect(second.stderr.contains("kernel cache hit: gemm"))
        #expect(!second.stderr.contains("kernel cache miss"))

        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: cache.path).first { $0.hasPrefix("gemm-") })
        let path = cache.appendingPathComponent(entry).path
        let intact = try #require(FileManager.default.contents(atPath: path))
        try intact.prefix(intact.count / 2).write(to: URL(fileURLWithPath: path))
        let third = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"], environment: env)
        #expect(third.status == 0)
        #expect(third.stderr.contains("kernel cache entry corrupt: \(path) (truncated"))
        #expect(third.stderr.contains("kernel cache miss: gemm"))
        #expect(FileManager.default.contents(atPath: path)?.count == intact.count, "the entry was rebuilt")
        let off = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"],
            environment: ["RDLAB_KERNEL_CACHE_DIR": "off", "RDLAB_LOG_LEVEL": "debug"])
        #expect(off.stderr.contains("kernel cache off: gemm"))
    }
}
