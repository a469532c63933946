import Foundation
import RDBackendCPU
import RDBackends
import RDCompute
import Testing

/// A backend under test, named for test output (`cpu`, `opencl:0 (pthread-…)`).
public struct BackendUnderTest: Sendable, CustomTestStringConvertible {
    public let backend: any Backend
    /// The family the suite meant to run (`cpu`, `opencl`), checked against what ran.
    public let family: String
    public var testDescription: String { backend.displayName }
}

/// Every backend this machine offers, from ``BackendRegistry/standard()``: the CPU, and each
/// device of every other family (CPU devices such as PoCL included, since this is how CI
/// exercises the OpenCL code).
public enum AvailableBackends {
    static let registry = BackendRegistry.standard()

    /// The reference every other backend is compared with.
    public static let cpu = BackendUnderTest(backend: CPUBackend(), family: BackendRegistry.fallbackName)

    /// Each family but the CPU, with its backends or the reason there are none.
    public static let others: [(family: String, backends: Result<[BackendUnderTest], ComputeError>)] =
        registry.all.filter { $0.name != BackendRegistry.fallbackName }.map { factory in
            do {
                return (factory.name, .success(try factory.devices().map {
                    BackendUnderTest(backend: try factory.makeBackend(on: $0), family: factory.name)
                }))
            } catch let error as ComputeError {
                return (factory.name, .failure(error))
            } catch {
                return (factory.name, .failure(.noDevice(backend: factory.name, reason: "\(error)")))
            }
        }

    /// OpenCL backends, or the reason there are none.
    public static var openCL: Result<[BackendUnderTest], ComputeError> {
        others.first { $0.family == "opencl" }?.backends ?? .failure(.unknownBackend(name: "opencl", valid: registry.names))
    }

    public static var all: [BackendUnderTest] { [cpu] + others.flatMap { (try? $0.backends.get()) ?? [] } }

    /// A new instance on `target`'s device, for a test that counts what one instance does
    /// while other tests use the shared one.
    public static func fresh(_ target: BackendUnderTest) throws -> any Backend {
        guard let factory = registry.all.first(where: { $0.name == target.family }) else { return CPUBackend() }
        return try factory.makeBackend(on: target.backend.device)
    }

    /// `RDLAB_TEST_REQUIRE_OPENCL=1` (set by `.ci/run`) makes a missing OpenCL backend a failure.
    public static var openCLRequired: Bool { ProcessInfo.processInfo.environment["RDLAB_TEST_REQUIRE_OPENCL"] == "1" }
}
