import Foundation
import Testing

/// Backend selection as a user meets it: flags, environment, fallback and strict exits.
@Suite("rdlab backend selection", .serialized)
struct SelectionIntegrationTests {
    @Test func devicesListsTheCPUBackend() throws {
        let out = try RDLabProcess.run(["devices"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("cpu:0"))
        #expect(out.stdout.split(separator: "\n").contains { $0.contains("PASS") })
    }

    @Test func poclIsListedAndSelectedOnlyWhenNamed() throws {
        guard RDLabProcess.hasPoCL else {
            #expect(!RDLabProcess.openCLRequired, "RDLAB_TEST_REQUIRE_OPENCL=1 but rdlab devices shows no PoCL device")
            return
        }
        let listing = try RDLabProcess.run(["devices"])
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        let poclLine = try #require(lines.firstIndex { $0.contains("Portable Computing Language") })
        #expect(lines[poclLine + 1].contains("PASS"))
        let named = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"])
        #expect(named.status == 0)
        #expect(named.stdout.contains("--backend opencl:pocl selects opencl:"))
        #expect(named.warnings.isEmpty)
        let viaEnvironment = try RDLabProcess.run(["devices"], environment: ["RDLAB_BACKEND": "OPENCL:0"])
        #expect(viaEnvironment.stdout.contains("selects opencl:0"))
        let auto = try RDLabProcess.run(["devices", "--backend", "auto"])
        #expect(auto.stdout.contains("--backend auto selects cpu:0"))
    }

    /// No ICD vendors: `--backend opencl` falls back with exactly one WARN naming the cause.
    @Test func missingDriverFallsBackWithOneWarning() throws {
        let empty = try RDLabProcess.temporaryDirectory("vendors")
        defer { try? FileManager.default.removeItem(at: empty) }
        let out = try RDLabProcess.run(["devices", "--backend", "opencl"], environment: ["OCL_ICD_VENDORS": empty.path])
        #expect(out.status == 0)
        #expect(out.stdout.contains("selects cpu:0"))
        #expect(out.warnings.count == 1)
        #expect(out.warnings.first?.contains("no OpenCL platform") == true)
    }

    @Test(arguments: [["--strict-backend"], []])
    func strictExitsNonZeroNamingTheCause(_ flags: [String]) throws {
        let empty = try RDLabProcess.temporaryDirectory("vendors")
        defer { try? FileManager.default.removeItem(at: empty) }
        var env: [String: String?] = ["OCL_ICD_VENDORS": empty.path]
        if flags.isEmpty { env["RDLAB_STRICT_BACKEND"] = "1" }
        let out = try RDLabProcess.run(["devices", "--backend", "opencl:pocl"] + flags, environment: env)
        #expect(out.status != 0)
        #expect(out.stderr.contains("no OpenCL platform"))
        #expect(out.warnings.isEmpty)
    }

    @Test func mistypedBackendListsTheValidOnes() throws {
        let out = try RDLabProcess.run(["devices", "--backend", "opnecl"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("opnecl") && out.stderr.contains("auto, cpu[:DEVICE], opencl[:DEVICE]"))
    }
}
