/// What kind of processor a device is (ggml's device types).
///
/// `auto` takes the best `gpu`. A family named without a device (`--backend NAME`) takes its
/// best `gpu`, else its first `accelerator`: a library that computes on the host beside the
/// CPU backend, such as BLAS (ggml's ACCEL). A `cpu` device of a family other than `cpu` (PoCL
/// under OpenCL) is used only when named with a device, by index or substring (`opencl:0`,
/// `opencl:pocl`).
public enum DeviceKind: String, Sendable, Codable {
    case cpu, gpu, accelerator, other
}

/// A device as a backend factory enumerates it: enough to choose one and to report what ran.
public struct DeviceDescription: Sendable, Equatable, CustomStringConvertible {
    /// Name of the backend family that owns the device (`cpu`, `opencl`).
    public var backend: String
    /// Position in the factory's device list; the `N` of `opencl:N`.
    public var index: Int
    public var name: String
    public var vendor: String
    public var kind: DeviceKind
    public var globalMemoryBytes: UInt64
    public var computeUnits: Int
    /// Driver version as the driver reports it.
    public var driverVersion: String
    /// Device version string (for OpenCL: `OpenCL 3.0 PoCL …`).
    public var deviceVersion: String
    public var platformName: String
    public var platformVendor: String
    public var platformVersion: String

    public init(
        backend: String, index: Int, name: String, vendor: String, kind: DeviceKind,
        globalMemoryBytes: UInt64, computeUnits: Int, driverVersion: String,
        deviceVersion: String = "", platformName: String = "", platformVendor: String = "",
        platformVersion: String = ""
    ) {
        self.backend = backend
        self.index = index
        self.name = name
        self.vendor = vendor
        self.kind = kind
        self.globalMemoryBytes = globalMemoryBytes
        self.computeUnits = computeUnits
        self.driverVersion = driverVersion
        self.deviceVersion = deviceVersion
        self.platformName = platformName
        self.platformVendor = platformVendor
        self.platformVersion = platformVersion
    }

    /// The strings a `backend:DEVICE` selector is matched against (case-insensitive substring).
    public var selectorTerms: [String] {
        [platformName, platformVendor, name, vendor, deviceVersion].filter { !$0.isEmpty }
    }

    /// `backend:index` — the selector that names exactly this device.
    public var selector: String { "\(backend):\(index)" }

    public var description: String {
        let gib = Double(globalMemoryBytes) / 1_073_741_824
        let memory = gib >= 1 ? "\(Int(gib.rounded())) GiB" : "\(globalMemoryBytes >> 20) MiB"
        var text = "\(selector) \(name) [\(kind.rawValue), \(memory), \(computeUnits) CU, driver \(driverVersion)"
        if !platformName.isEmpty { text += ", platform \(platformName)" }
        return text + "]"
    }
}
