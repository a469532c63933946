import Foundation
import RDCompute
import RDTestSupport
import Testing

@testable import RDBackendOpenCL

@Suite("OpenCL backend internals")
struct OpenCLInternalsTests {
    @Test func environmentConfiguration() {
        let off = OpenCLConfiguration.fromEnvironment(["RDLAB_KERNEL_CACHE_DIR": "off", "RDLAB_SYNC": "1"])
        #expect(off.cacheDirectory == nil && off.synchronous)
        let moved = OpenCLConfiguration.fromEnvironment(["RDLAB_KERNEL_CACHE_DIR": "/tmp/k", "RDLAB_KERNEL_DIR": "/src/Kernels"])
        #expect(moved.cacheDirectory?.path == "/tmp/k" && moved.kernelDirectory?.path == "/src/Kernels")
        let home = OpenCLConfiguration.fromEnvironment(["XDG_CACHE_HOME": "/x"])
        #expect(home.cacheDirectory?.path == "/x/rdlab/kernels")
    }

    /// RDLAB_SYNC=1 (finish after every enqueue) changes timing, never results.
    @Test func synchronousModeComputesTheSame() throws {
        guard let device = try? OpenCLBackendFactory().devices().first else {
            #expect(!AvailableBackends.openCLRequired, "no OpenCL device")
            return
        }
        let configuration = OpenCLConfiguration.fromEnvironment(["RDLAB_SYNC": "1"])
        let backend = try OpenCLBackendFactory(configuration: configuration).makeBackend(on: device)
        var data = TestData(seed: 81)
        let d = GemmDescriptor(m: 9, n: 17, k: 5)
        let a = data.values(45), b = data.values(85)
        let c = try backend.makeBuffer(count: 9 * 17)
        try backend.gemm(d, a: try backend.makeBuffer(a), b: try backend.makeBuffer(b), c: c)
        try backend.unary(.tanh, c, output: c)
        let expected = Reference.gemm(d, a, b, []).map { Foundation.tanh($0) }
        #expect(nmse(try backend.download(c), expected) < 1e-10)
    }

    /// The device timer sums the recorded kernels' profiling times: positive for a GEMM, larger
    /// for two than for one, and nil when nothing was enqueued (the bench then uses wall time).
    @Test func deviceTimerSumsKernelTimes() throws {
        guard let target = (try? AvailableBackends.openCL.get())?.first,
            let backend = target.backend as? any DeviceTimedBackend
        else {
            #expect(!AvailableBackends.openCLRequired, "no OpenCL device")
            return
        }
        let d = GemmDescriptor(m: 256, n: 256, k: 256)
        let a = try backend.makeBuffer(count: 256 * 256), c = try backend.makeBuffer(count: 256 * 256)
        try backend.fill(a, with: 1)
        try backend.startDeviceTimer()
        try backend.gemm(d, a: a, b: a, c: c)
        let one = try #require(try backend.stopDeviceTimer())
        try backend.startDeviceTimer()
        for _ in 0..<4 { try backend.gemm(d, a: a, b: a, c: c) }
        let four = try #require(try backend.stopDeviceTimer())
        #expect(one > 0 && four > 2 * one, "one GEMM \(one) µs, four \(four) µs")
        try backend.startDeviceTimer()
        #expect(try backend.stopDeviceTimer() == nil)
    }

    /// The tile table: per device class, an override that parses, and parity with a tile other
    /// than the default (the GEMM and conv kernels compile and agree with the reference).
    @Test func gemmTilesPerDeviceClass() throws {
        func device(_ kind: DeviceKind, _ vendor: String) -> DeviceDescription {
            DeviceDescription(backend: "opencl", index: 0, name: "test", vendor: vendor, kind: kind, globalMemoryBytes: 1 << 30,
                computeUnits: 8, driverVersion: "1", deviceVersion: "OpenCL 3.0", platformName: "p", platformVendor: vendor,
                platformVersion: "OpenCL 3.0")
        }
        #expect(GemmTile.preferences(for: device(.gpu, "NVIDIA Corporation")).first == GemmTile(tileSize: 64, workPerThread: 8))
        #expect(GemmTile.preferences(for: device(.gpu, "Advanced Micro Devices, Inc.")).first == GemmTile(tileSize: 32, workPerThread: 4))
        #expect(GemmTile.preferences(for: device(.gpu, "Intel(R) Corporation")).first == GemmTile(tileSize: 32, workPerThread: 8))
        #expect(GemmTile.preferences(for: device(.cpu, "The pocl project")).first == GemmTile(tileSize: 64, workPerThread: 16))
        #expect(GemmTile("16x4") == GemmTile(tileSize: 16, workPerThread: 4) && GemmTile("16x5") == nil && GemmTile("big") == nil)
        guard let openCL = try? OpenCLBackendFactory().devices().first else {
            #expect(!AvailableBackends.openCLRequired, "no OpenCL device")
            return
        }
        let backend = try OpenCLBackendFactory(configuration: OpenCLConfiguration(cacheDirectory: nil, gemmTile: "16x4"))
            .makeBackend(on: openCL) as! OpenCLBackend
        #expect(backend.gemmTile == GemmTile(tileSize: 16, workPerThread: 4))
        var data = TestData(seed: 83)
        let g = Conv2DGeometry(batch: 2, height: 6, width: 7, inChannels: 18, outChannels: 20, kernel: 3, stride: 1, padding: .same)
        let input = data.values(g.inputCount), filter = data.values(g.filterCount)
        let output = try backend.makeBuffer(count: g.outputCount)
        try backend.conv2dForward(g, input: try backend.makeBuffer(input), filter: try backend.makeBuffer(filter), output: output)
        #expect(nmse(try backend.download(output), Reference.convForward(g, input, filter)) < 1e-10)
    }

    /// Every `Kernels/*.cl` file is embedded and every family's kernels are declared in it.
    @Test func kernelsAreEmbedded() throws {
        for family in KernelFamily.all {
            let source = try KernelSource.text(of: family, directory: nil)
            for kernel in family.kernels { #expect(source.contains("void \(kernel)("), "\(kernel) missing in \(family.name).cl") }
        }
    }

    /// A broken kernel from RDLAB_KERNEL_DIR yields the typed error with the compiler's log.
    @Test func brokenKernelReportsTheBuildLog() throws {
        guard let device = try? OpenCLBackendFactory().devices().first else {
            #expect(!AvailableBackends.openCLRequired, "no OpenCL device to build on")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rdlab-broken-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for family in KernelFamily.all {
            var source = try KernelSource.text(of: family, directory: nil)
            if family.name == "optim" { source += "\n__kernel void broken(__global float* x) { x[0] = undeclared_symbol_xyz; }\n" }
            try source.write(to: directory.appendingPathComponent("\(family.name).cl"), atomically: true, encoding: .utf8)
        }
        let factory = OpenCLBackendFactory(configuration: OpenCLConfiguration(kernelDirectory: directory, cacheDirectory: nil))
        do {
            _ = try factory.makeBackend(on: device)
            Issue.record("a broken kernel built")
        } catch let ComputeError.kernelBuild(kernel, options, deviceName, log) {
            #expect(kernel == "optim.cl")
            #expect(options.contains("-cl-std=CL1.2"))
            #expect(deviceName.contains(device.name))
            #expect(log.contains("undeclared_symbol_xyz"))
        }
    }
}
