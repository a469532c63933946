import Foundation
import RDCompute
import Testing

/// `rdlab selftest`: one line per op, strict selection, and a planted kernel bug caught.
@Suite("rdlab selftest", .serialized)
struct SelftestIntegrationTests {
    /// The status lines of a selftest's output, by op name.
    static func statuses(_ stdout: String) -> [String: String] {
        let statuses = ["PASS", "FAIL", "UNSUPPORTED"]
        return Dictionary(stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 2, statuses.contains(fields[0]) else { return nil }
            return (fields[1], fields[0])
        }, uniquingKeysWith: { first, _ in first })
    }

    static let needsPoCL = RDLabProcess.hasPoCL || RDLabProcess.openCLRequired

    @Test func cpuPassesEveryOp() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "cpu"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let statuses = Self.statuses(run.stdout)
        #expect(Set(statuses.keys) == Set(Op.allCases.map(\.rawValue) + ["buffers"]))
        #expect(statuses.values.allSatisfy { $0 == "PASS" }, "\(run.stdout)")
    }

    @Test func opFilterSelectsOpsAndRejectsAPatternThatMatchesNone() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "cpu", "--op", "^bias"])
        #expect(run.status == 0)
        #expect(Set(Self.statuses(run.stdout).keys) == ["biasAdd", "biasGradient", "biasReLU", "biasReLUBackward"])
        let none = try RDLabProcess.run(["selftest", "--backend", "cpu", "--op", "^nothing$"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("matches no op"))
    }

    @Test func jsonGivesOneObjectPerOp() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "cpu", "--op", "^gemm$|^reduce$", "--json"])
        #expect(run.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["failed"] as? Bool == false)
        let ops = try #require(report["ops"] as? [[String: Any]])
        #expect(ops.map { $0["op"] as? String } == ["gemm", "reduce"])
        #expect(ops.map { $0["status"] as? String } == ["PASS", "PASS"])
        #expect(ops.map { $0["cases"] as? Int } == [64, 36])
        #expect(ops.map { $0["gradientChecks"] as? Int } == [1, 0], "gemm's transposes checked, reduce has no backward")
        #expect(ops.map { $0["gradientCoordinates"] as? Int } == [63, 0])
        #expect((ops[0]["worstGradientError"] as? Double ?? 1) <= (ops[0]["gradientTolerance"] as? Double ?? 0))
    }

    /// A backward op's line counts its finite-difference checks and their worst relative error.
    @Test func backwardOpReportsItsGradientChecks() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "cpu", "--op", "conv2dBackwardData"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(Self.statuses(run.stdout) == ["conv2dBackwardData": "PASS"], "\(run.stdout)")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("PASS") })
        #expect(line.contains(" 2 grad checks  worst error "), "\(line)")
        #expect(run.stdout.contains("2 gradient checks"), "\(run.stdout)")
    }

    /// A backend that is not there is an error, never a selftest of the CPU.
    @Test func missingBackendFailsInsteadOfTestingTheCPU() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "opencl:no-such-device", "--op", "gemm"])
        #expect(run.status != 0)
        #expect(!run.stdout.contains("PASS"))
    }

    @Test(.enabled(if: needsPoCL, "needs a PoCL device (RDLAB_TEST_REQUIRE_OPENCL=1 makes its absence a failure)"))
    func poclPassesEveryOp() throws {
        let run = try RDLabProcess.run(["selftest", "--backend", "opencl:pocl", "--strict-backend"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let statuses = Self.statuses(run.stdout)
        #expect(statuses.count == Op.allCases.count + 1)
        #expect(statuses.values.allSatisfy { $0 == "PASS" }, "\(run.stdout)")
        #expect(run.stdout.contains("vs cpu"), "compared with the CPU backend too")
    }

    /// gaussian_kl's factor ½ changed in a copy of the kernels: that op FAILs, and so does
    /// gaussianKLBackward, whose finite differences of the changed forward no longer match its
    /// (unchanged) gradient; the neighbours (ar1_kl has the same line) PASS, and the exit status
    /// is non-zero.
    @Test(.enabled(if: needsPoCL, "needs a PoCL device (RDLAB_TEST_REQUIRE_OPENCL=1 makes its absence a failure)"))
    func plantedKernelBugFailsThatOp() throws {
        let kernels = try KernelIntegrationTests.kernelsDirectory()
        let mutated = try RDLabProcess.temporaryDirectory("selftest-kernels")
        defer { try? FileManager.default.removeItem(at: mutated) }
        for file in try FileManager.default.contentsOfDirectory(atPath: kernels.path) {
            try FileManager.default.copyItem(at: kernels.appendingPathComponent(file), to: mutated.appendingPathComponent(file))
        }
        let loss = mutated.appendingPathComponent("loss.cl")
        let source = try String(contentsOf: loss, encoding: .utf8)
        let line = try #require(source.range(of: "out[r] = 0.5f * total;"), "gaussian_kl's last line")
        try source.replacingCharacters(in: line, with: "out[r] = 0.51f * total;").write(to: loss, atomically: true, encoding: .utf8)
        let run = try RDLabProcess.run(["selftest", "--backend", "opencl:pocl", "--strict-backend", "--op", "gaussianKL|ar1KL"],
            environment: ["RDLAB_KERNEL_DIR": mutated.path, "RDLAB_KERNEL_CACHE_DIR": "off"])
        #expect(run.status != 0)
        #expect(Self.statuses(run.stdout) == ["gaussianKL": "FAIL", "gaussianKLBackward": "FAIL", "gaussianKLPair": "PASS",
            "gaussianKLPairBackward": "PASS", "ar1KL": "PASS", "ar1KLBackward": "PASS"], "\(run.stdout)")
    }
}
