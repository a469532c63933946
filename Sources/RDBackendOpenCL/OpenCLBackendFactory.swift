import Foundation
import Logging
import RDCompute

/// Registers the OpenCL backend: every device of every platform the ICD loader reports.
public struct OpenCLBackendFactory: BackendFactory {
    public let name = "opencl"
    public let configuration: OpenCLConfiguration
    let logger: Logger

    public init(configuration: OpenCLConfiguration = .fromEnvironment(), logger: Logger = Logger(label: "rdlab.opencl")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func devices() throws -> [DeviceDescription] {
        try OpenCLDevice.enumerate(try OpenCLAPI.shared.get()).map(\.description)
    }

    public func makeBackend(on device: DeviceDescription) throws -> any Backend {
        let api = try OpenCLAPI.shared.get()
        guard let match = try OpenCLDevice.enumerate(api).first(where: { $0.description == device }) else {
            throw ComputeError.noDevice(backend: name, reason: "device \(device.selector) (\(device.name)) is gone")
        }
        return try OpenCLBackend(api: api, device: match, configuration: configuration, logger: logger)
    }
}
