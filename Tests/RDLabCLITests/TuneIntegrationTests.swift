import Foundation
import Testing

/// `rdlab tune` as a user meets it: the stored result, `rdlab devices` showing it, and the
/// errors for a device it cannot tune.
@Suite("rdlab tune", .serialized)
struct TuneIntegrationTests {
    /// A tiny tuning on PoCL stores a file in the kernel cache; `rdlab devices` then shows the
    /// tuned tile, and a cache that was never tuned shows the table's with the command to run.
    @Test func tuneStoresAndDevicesShowsIt() throws {
        guard RDLabProcess.hasPoCL else {
            #expect(!RDLabProcess.openCLRequired, "RDLAB_TEST_REQUIRE_OPENCL=1 but rdlab devices shows no PoCL device")
            return
        }
        let cache = try RDLabProcess.temporaryDirectory("tune-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let untuned = try RDLabProcess.run(["devices"], environment: ["RDLAB_KERNEL_CACHE_DIR": cache.path, "RDLAB_GEMM_TILE": nil])
        #expect(untuned.stdout.contains("(default table; run `rdlab tune --backend opencl:"), "\(untuned.stdout)")
        let tune = try RDLabProcess.run(["tune", "--backend", "opencl:pocl", "--size", "32", "--budget", "0.001"],
            environment: ["RDLAB_KERNEL_CACHE_DIR": cache.path, "RDLAB_GEMM_TILE": nil])
        #expect(tune.status == 0, "\(tune.stderr)")
        #expect(tune.stderr.contains("[1/"), "no progress line: \(tune.stderr)")
        #expect(tune.stdout.contains("not tried within --budget"))
        let stored = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasPrefix("gemm-tile-") }
        #expect(stored.count == 1 && tune.stdout.contains("stored \(cache.path)/\(stored.first ?? "-")"), "\(tune.stdout)")
        let tuned = try RDLabProcess.run(["devices"], environment: ["RDLAB_KERNEL_CACHE_DIR": cache.path, "RDLAB_GEMM_TILE": nil])
        #expect(tuned.stdout.contains("(tuned 20") && tuned.stdout.contains("1.00× the default)"), "\(tuned.stdout)")
    }

    /// A backend other than OpenCL, and a device that is not there, are errors naming --backend.
    @Test func tuneRefusesWhatItCannotTune() throws {
        let cpu = try RDLabProcess.run(["tune", "--backend", "cpu"])
        #expect(cpu.status != 0 && cpu.stderr.contains("--backend cpu") && cpu.stderr.contains("opencl:DEVICE"), "\(cpu.stderr)")
        let missing = try RDLabProcess.run(["tune", "--backend", "opencl:no-such-device"])
        #expect(missing.status != 0 && missing.stderr.contains("--backend opencl:no-such-device"), "\(missing.stderr)")
        let budget = try RDLabProcess.run(["tune", "--backend", "opencl", "--budget", "0"])
        #expect(budget.status != 0 && budget.stderr.contains("--budget"))
    }
}
