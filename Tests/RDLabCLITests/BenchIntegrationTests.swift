import Foundation
import Testing

/// `rdlab bench` as a user runs it: the table, the JSON it writes, the ratio between backends,
/// and the errors for bad flags (given before anything is measured).
@Suite("rdlab bench", .serialized)
struct BenchIntegrationTests {
    /// The JSON document `--json` writes, as far as these tests read it.
    struct Document: Decodable {
        struct Row: Decodable {
            let name, backend, device, driver, timing: String
            let runs: Int
            let medianMicroseconds, p10Microseconds, p90Microseconds: Double
            let bytes, gbPerSecond, ratioToFirstBackend: Double
            let baselineMedianMicroseconds: Double?
        }
        let date, commit, rdlab: String
        let results: [Row]
    }

    /// Runs `rdlab bench` with `--json` into a temporary file (kept at `keep` if given) and reads it back.
    static func bench(_ flags: [String], environment: [String: String?] = [:], keep: URL? = nil) throws
        -> (output: RDLabProcess.Output, document: Document?) {
        let directory = try RDLabProcess.temporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = keep ?? directory.appendingPathComponent("bench.json")
        let output = try RDLabProcess.run(["bench", "--budget", "0.05", "--json", json.path] + flags, environment: environment)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let document = try? decoder.decode(Document.self, from: Data(contentsOf: json))
        return (output, document)
    }

    @Test func cpuRowIsWallTimedWithBandwidthAndProvenance() throws {
        let (out, document) = try Self.bench(["--backend", "cpu", "--op", "^adam step"])
        #expect(out.status == 0, "\(out.stderr)")
        let row = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("adam step 1M parameters") })
        #expect(row.contains("cpu:0") && row.hasSuffix("wall"))
        let doc = try #require(document)
        #expect(doc.commit.count >= 7, "the commit of the checkout that built rdlab")
        #expect(ISO8601DateFormatter().date(from: doc.date) != nil)
        let result = try #require(doc.results.first)
        #expect(doc.results.count == 1)
        #expect(result.backend == "cpu:0" && !result.device.isEmpty && !result.driver.isEmpty && result.timing == "wall")
        #expect(result.runs >= 3)
        #expect(result.p10Microseconds <= result.medianMicroseconds && result.medianMicroseconds <= result.p90Microseconds)
        // Adam reads parameter, gradient and both moments and writes three of them: 7 floats per parameter.
        #expect(result.bytes == 7 * 4 * Double(1 << 20))
        #expect(abs(result.gbPerSecond - result.bytes / result.medianMicroseconds / 1e3) <= 1e-9 * result.gbPerSecond)
        #expect(result.ratioToFirstBackend == 1)
    }

    @Test func poclRowIsDeviceTimedAndComparedWithTheFirstBackend() throws {
        guard RDLabProcess.hasPoCL else {
            #expect(!RDLabProcess.openCLRequired, "RDLAB_TEST_REQUIRE_OPENCL=1 but rdlab devices shows no PoCL device")
            return
        }
        let (out, document) = try Self.bench(["--backend", "cpu", "--backend", "opencl:pocl", "--op", "^adam step"])
        #expect(out.status == 0, "\(out.stderr)")
        let rows = try #require(document).results
        #expect(rows.map(\.backend) == ["cpu:0", "opencl:0"])
        let (cpu, pocl) = (rows[0], rows[1])
        #expect(pocl.timing == "device", "OpenCL rows come from profiling events")
        #expect(!pocl.driver.isEmpty && !pocl.device.isEmpty)
        #expect(abs(pocl.ratioToFirstBackend - cpu.medianMicroseconds / pocl.medianMicroseconds) <= 1e-9 * pocl.ratioToFirstBackend)
    }

    /// `--backend opencl` without a GPU falls back to the CPU, which is already in the list.
    @Test func fallbackOntoAMeasuredDeviceIsSkippedWithAWarning() throws {
        let empty = try RDLabProcess.temporaryDirectory("vendors")
        defer { try? FileManager.default.removeItem(at: empty) }
        let (out, document) = try Self.bench(["--backend", "cpu", "--backend", "opencl", "--op", "^adam step"],
            environment: ["OCL_ICD_VENDORS": empty.path])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try #require(document).results.map(\.backend) == ["cpu:0"])
        #expect(out.warnings.contains { $0.contains("--backend opencl gives cpu:0, which is already measured") })
    }

    @Test func compareAddsEachRowsRatioToAnEarlierRun() throws {
        let directory = try RDLabProcess.temporaryDirectory("compare")
        defer { try? FileManager.default.removeItem(at: directory) }
        let earlier = directory.appendingPathComponent("before.json")
        let before = try #require(try Self.bench(["--backend", "cpu", "--op", "^adam step"], keep: earlier).document)
        let (out, document) = try Self.bench(["--backend", "cpu", "--op", "^(adam step|bias add)", "--compare", earlier.path])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("baseline: \(earlier.path), commit \(before.commit)"))
        let rows = try #require(document).results
        let adam = try #require(rows.first { $0.name.hasPrefix("adam") })
        let bias = try #require(rows.first { $0.name.hasPrefix("bias add") })
        #expect(adam.baselineMedianMicroseconds == before.results[0].medianMicroseconds)
        #expect(bias.baselineMedianMicroseconds == nil, "the earlier run has no bias row")
        let adamLine = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("adam step") })
        #expect(adamLine.hasSuffix(String(format: "%.2f×  wall", before.results[0].medianMicroseconds / adam.medianMicroseconds)))
        let biasLine = try #require(out.stdout.split(separator: "\n").first { $0.hasPrefix("bias add") })
        #expect(biasLine.hasSuffix("–  wall"))
    }

    @Test func listPrintsTheMatchingCaseNamesWithoutMeasuring() throws {
        let out = try RDLabProcess.run(["bench", "--list", "--op", "^conv enc1 "])
        #expect(out.status == 0)
        #expect(out.stdout.split(separator: "\n") == ["conv enc1 28x28 1->32 5x5 fwd", "conv enc1 28x28 1->32 5x5 bwd-data",
            "conv enc1 28x28 1->32 5x5 bwd-filter"])
        #expect(!out.stderr.contains("backend"), "no backend is set up")
    }

    @Test(arguments: [
        (["--budget", "0"], "--budget 0.0"),
        (["--peak=-5"], "--peak -5.0"),
        (["--op", "no such case"], "matches no case; cases: gemm square 1024^3"),
        (["--op", "("], "--op: invalid regular expression '('"),
        (["--json", "/nonexistent-rdlab-dir/bench.json"], "directory /nonexistent-rdlab-dir does not exist"),
        (["--compare", "/nonexistent-rdlab-dir/old.json"], "--compare /nonexistent-rdlab-dir/old.json: no such file"),
    ])
    func badFlagsFailNamingTheFlag(_ flags: [String], _ message: String) throws {
        let out = try RDLabProcess.run(["bench", "--backend", "cpu"] + flags)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "\(out.stderr)")
        #expect(!out.stderr.contains("ETA"), "nothing was measured")
    }
}
