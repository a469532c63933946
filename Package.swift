// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The CPU backend's hot loops are written with `SIMD16<Float>`; without a target CPU the
/// compiler lowers them to SSE2 and loses FMA. `RDLAB_TARGET_CPU` picks the instruction set
/// (any `-target-cpu` value such as `native`, `haswell`, `skylake-avx512`, or `none`); the
/// default is AVX-512 (`skylake-avx512`) where the build machine has it, else AVX2 (`haswell`),
/// so a binary built here runs on this machine and on any x86-64 server of that generation.
let cpuTargetLevel: String? = {
    let env = ProcessInfo.processInfo.environment["RDLAB_TARGET_CPU"]
    var level = env
    if level == nil {
        #if arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx512f") && flags.contains(" avx512bw") && flags.contains(" avx512vl")
            && flags.contains(" avx512dq") {
            level = "skylake-avx512"
        } else if flags.contains(" avx2") && flags.contains(" fma") {
            level = "haswell"
        }
        #endif
    }
    return level == "none" ? nil : level
}()

/// The CPU kernels are optimised in debug builds too: every test runs through them, and an
/// unoptimised GEMM is 10–50× slower.
let cpuKernelFlags: [SwiftSetting] = (cpuTargetLevel.map { [.unsafeFlags(["-target-cpu", $0])] } ?? [])
    + [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// The executable (compiled for the baseline ISA) learns the kernels' level, so it can refuse
/// to run them on a CPU without those instructions instead of dying of SIGILL; the CPU backend
/// learns it too, and on `haswell` (AVX2: 16 vector registers, not 32) runs the GEMM
/// micro-kernel's 8×32 tile as four 4×16 quarters.
let cpuLevelDefine: [SwiftSetting] = cpuTargetLevel.map { [.define("RDLAB_CPU_TARGET_" + $0.replacingOccurrences(of: "-", with: "_").uppercased())] } ?? []

/// The backend API, from its own package (one shared library in the process).
let rdCompute = Target.Dependency.product(name: "RDCompute", package: "RDCompute")

/// SHA-256 (the OpenCL program cache's keys, dataset checksums, sweep point ids).
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "rdlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rdlab", targets: ["rdlab"]),
        .library(name: "RDBackendCPU", targets: ["RDBackendCPU"]),
        .library(name: "RDBackendOpenCL", targets: ["RDBackendOpenCL"]),
        .library(name: "RDParity", targets: ["RDParity"]),
        .library(name: "RDData", targets: ["RDData"]),
        .library(name: "RDLab", targets: ["RDLab"]),
        .library(name: "RDSweep", targets: ["RDSweep"]),
        // Backend plugins for the plugin loader's tests, loaded only with dlopen (nothing links
        // them): `swift build` leaves them as .build/<config>/libRDTestPlugin.so and
        // libRDTestPluginFaulty.so, beside libRDCompute.so, which they and rdlab link.
        .library(name: "RDTestPlugin", type: .dynamic, targets: ["RDTestPlugin"]),
        .library(name: "RDTestPluginFaulty", type: .dynamic, targets: ["RDTestPluginFaulty"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // RDCompute is a package of its own so that it is one shared library, libRDCompute.so,
        // which rdlab and backend plugins link (Packages/RDCompute/Package.swift); it re-exports
        // swift-log's Logging, which nothing else here links.
        .package(path: "Packages/RDCompute"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]
        ),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "RDBackendCPU",
            dependencies: [rdCompute, "CMalloc"],
            // the level's define picks the GEMM micro-kernel's tile (`CPUGemm.microKernel`)
            swiftSettings: cpuKernelFlags + cpuLevelDefine
        ),
        .target(
            name: "RDBackendOpenCL",
            // RDParity: the conv references `rdlab tune` checks each candidate tile against
            dependencies: [rdCompute, "RDFiles", "RDParity", "COpenCL", crypto],
            resources: [.embedInCode("Kernels")]
        ),
        // Durable whole-file writes and file-system errors that name the path.
        .target(name: "RDFiles", dependencies: [rdCompute, crypto]),
        // BackendRegistry.standard: the built-in families (and plugins) in one list.
        .target(name: "RDBackends", dependencies: [rdCompute, "RDBackendCPU", "RDBackendOpenCL"]),
        // The parity cases and their Double references, shared by the parity suite and `rdlab selftest`.
        .target(name: "RDParity", dependencies: [rdCompute]),
        .target(
            name: "RDLab",
            dependencies: [rdCompute, "RDFiles", "CZlib"]
        ),
        .target(
            name: "RDData",
            dependencies: [rdCompute, "RDFiles", "CZlib", crypto]
        ),
        .target(
            name: "RDSweep",
            dependencies: [rdCompute, "RDFiles", "RDLab", crypto, .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "rdlab",
            dependencies: [
                rdCompute, "RDBackends", "RDBackendCPU", "RDBackendOpenCL", "RDFiles", "RDLab", "RDData", "RDSweep", "RDParity", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: cpuLevelDefine
        ),
        .target(name: "RDTestPlugin", dependencies: [rdCompute], path: "Tests/Plugins/RDTestPlugin"),
        .target(name: "RDTestPluginFaulty", dependencies: [rdCompute], path: "Tests/Plugins/RDTestPluginFaulty"),
        .executableTarget(
            name: "RDComputeBenchmarks",
            dependencies: [
                rdCompute, "RDBackends", "RDLab",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RDComputeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .testTarget(name: "RDComputeTests", dependencies: [rdCompute, "RDTestSupport"]),
        .testTarget(name: "RDDataTests", dependencies: ["RDData", "RDFiles", "RDTestSupport", crypto]),
        .testTarget(name: "RDLabTests", dependencies: ["RDLab", rdCompute, "RDFiles", "RDData", "RDTestSupport", "RDParity",
            "RDBackendCPU", "RDBackendOpenCL"]),
        .target(
            name: "RDTestSupport",
            dependencies: [rdCompute, "RDBackends", "RDBackendCPU", "RDParity"],
            path: "Tests/RDTestSupport"
        ),
        .testTarget(
            name: "RDBackendParityTests",
            dependencies: [rdCompute, "RDBackendCPU", "RDBackendOpenCL", "RDParity", "RDTestSupport"]
        ),
        .testTarget(name: "RDSweepTests", dependencies: ["RDSweep", "RDLab", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RDLabCLITests", dependencies: ["rdlab", "RDLab", "RDSweep", "RDTestSupport"]),
    ] + fuzzTargets
)

/// libFuzzer targets for the parsers of files rdlab reads (`scripts/fuzz` builds them with
/// `-sanitize=fuzzer,address -DRDLAB_FUZZING`); a plain build makes each a program that runs
/// its entry point on the files it is given (the seed corpora in `Tests/Fuzz/Corpus`).
var fuzzTargets: [Target] {
    let parsers: [(String, Target.Dependency)] = [("FuzzSafeTensors", "RDLab"), ("FuzzIDX", "RDData"),
        ("FuzzPackedBits", "RDData"), ("FuzzRunConfig", "RDLab"), ("FuzzSweepSpec", "RDSweep")]
    return [.target(name: "FuzzReplay", path: "Tests/Fuzz/Targets/FuzzReplay")]
        + parsers.map { name, library in
            .executableTarget(name: name, dependencies: [library, "FuzzReplay"], path: "Tests/Fuzz/Targets/\(name)")
        }
}
