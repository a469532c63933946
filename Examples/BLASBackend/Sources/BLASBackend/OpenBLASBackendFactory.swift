import Foundation
import RDCompute

/// The backend family `blas`: one device, OpenBLAS on the host, of kind
/// ``DeviceKind/accelerator`` (a library that computes in host memory beside the CPU backend,
/// ggml's ACCEL). That kind is taken when the family is named (`--backend blas`), never by
/// `--backend auto`.
struct OpenBLASBackendFactory: BackendFactory {
    var name: String { "blas" }

    /// `blas:0 OpenBLAS 0.3.21 (2 threads)`; the memory is the host's.
    static let device = DeviceDescription(
        backend: "blas", index: 0, name: "OpenBLAS \(OpenBLASInfo.version) (\(OpenBLASInfo.threads) thread\(OpenBLASInfo.threads == 1 ? "" : "s"))",
        vendor: "OpenBLAS", kind: .accelerator, globalMemoryBytes: ProcessInfo.processInfo.physicalMemory,
        computeUnits: OpenBLASInfo.threads, driverVersion: "OpenBLAS \(OpenBLASInfo.version)",
        deviceVersion: "\(OpenBLASInfo.config) (core \(OpenBLASInfo.coreName))")

    func devices() throws -> [DeviceDescription] { [Self.device] }

    func makeBackend(on device: DeviceDescription) throws -> any Backend {
        guard device == Self.device else { throw ComputeError.noDevice(backend: name, reason: "no device \(device.selector)") }
        return OpenBLASBackend(device: device)
    }
}
