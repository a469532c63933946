import Foundation
import RDCompute

/// Registers the CPU backend: one device, the host.
public struct CPUBackendFactory: BackendFactory {
    public let name = "cpu"

    public init() {}

    /// The host as a device: CPU model name, physical memory, core count.
    public static let hostDevice: DeviceDescription = {
        let model = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        return DeviceDescription(
            backend: "cpu", index: 0, name: model ?? "host CPU", vendor: "host", kind: .cpu,
            globalMemoryBytes: ProcessInfo.processInfo.physicalMemory, computeUnits: Parallel.threads,
            driverVersion: "rdlab Swift SIMD, \(Parallel.threads) threads", deviceVersion: "SIMD16 fp32")
    }()

    public func devices() throws -> [DeviceDescription] { [Self.hostDevice] }

    public func makeBackend(on device: DeviceDescription) throws -> any Backend { CPUBackend(device: device) }
}

