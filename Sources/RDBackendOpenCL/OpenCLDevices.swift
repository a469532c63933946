import Foundation
import COpenCL
import RDCompute

/// One OpenCL device with the handles and limits the backend needs.
struct OpenCLDevice: @unchecked Sendable {
    let platform: cl_platform_id
    let id: cl_device_id
    let description: DeviceDescription
    let maxWorkGroupSize: Int
    let maxWorkItemSizes: [Int]
    let localMemoryBytes: UInt64
    let maxAllocationBytes: UInt64

    /// Serialises enumeration: the ICD loader initialises itself on the first query, and two
    /// threads doing that at once can crash it (seen with ocl-icd and PoCL in parallel tests).
    private static let enumeration = NSLock()

    /// Every device of every platform, in platform order; indices are positions in this list.
    static func enumerate(_ api: OpenCLAPI) throws -> [OpenCLDevice] {
        try enumeration.withLock { try enumerateUnlocked(api) }
    }

    private static func enumerateUnlocked(_ api: OpenCLAPI) throws -> [OpenCLDevice] {
        var platformCount: cl_uint = 0
        let code = api.getPlatformIDs(0, nil, &platformCount)
        guard code == CL_SUCCESS || code == -1001, platformCount > 0 else {
            throw ComputeError.noDevice(backend: "opencl",
                reason: "no OpenCL platform (clGetPlatformIDs: \(code)); install a driver ICD such as pocl-opencl-icd, or check OCL_ICD_VENDORS")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        try OpenCLAPI.check(api.getPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs", device: "opencl")
        var devices: [OpenCLDevice] = []
        for case let platform? in platforms {
            var count: cl_uint = 0
            guard api.getDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count) == CL_SUCCESS,
                count > 0
            else { continue }
            var ids = [cl_device_id?](repeating: nil, count: Int(count))
            guard api.getDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil) == CL_SUCCESS
            else { continue }
            for case let id? in ids {
                devices.append(describe(api, platform: platform, device: id, index: devices.count))
            }
        }
        guard !devices.isEmpty else {
            throw ComputeError.noDevice(backend: "opencl", reason: "OpenCL platforms found but no devices")
        }
        return devices
    }

    static func describe(_ api: OpenCLAPI, platform: cl_platform_id, device: cl_device_id, index: Int) -> OpenCLDevice {
        let info = api.getDeviceInfo
        let type: cl_device_type = OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_TYPE), default: 0)
        let kind: DeviceKind =
            type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
            : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
            : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator : .other
        let dims: cl_uint = OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS), default: 3)
        var sizes = [Int](repeating: 1, count: Int(dims))
        _ = sizes.withUnsafeMutableBytes { info(device, cl_uint(CL_DEVICE_MAX_WORK_ITEM_SIZES), $0.count, $0.baseAddress, nil) }
        let description = DeviceDescription(
            backend: "opencl", index: index,
            name: OpenCLAPI.string(info, device, cl_uint(CL_DEVICE_NAME)),
            vendor: OpenCLAPI.string(info, device, cl_uint(CL_DEVICE_VENDOR)), kind: kind,
            globalMemoryBytes: OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_GLOBAL_MEM_SIZE), default: UInt64(0)),
            computeUnits: Int(OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_MAX_COMPUTE_UNITS), default: cl_uint(1))),
            driverVersion: OpenCLAPI.string(info, device, cl_uint(CL_DRIVER_VERSION)),
            deviceVersion: OpenCLAPI.string(info, device, cl_uint(CL_DEVICE_VERSION)),
            platformName: OpenCLAPI.string(api.getPlatformInfo, platform, cl_uint(CL_PLATFORM_NAME)),
            platformVendor: OpenCLAPI.string(api.getPlatformInfo, platform, cl_uint(CL_PLATFORM_VENDOR)),
            platformVersion: OpenCLAPI.string(api.getPlatformInfo, platform, cl_uint(CL_PLATFORM_VERSION)))
        return OpenCLDevice(
            platform: platform, id: device, description: description,
            maxWorkGroupSize: OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_MAX_WORK_GROUP_SIZE), default: 1),
            maxWorkItemSizes: sizes,
            localMemoryBytes: OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_LOCAL_MEM_SIZE), default: UInt64(16384)),
            maxAllocationBytes: OpenCLAPI.value(info, device, cl_uint(CL_DEVICE_MAX_MEM_ALLOC_SIZE), default: UInt64(1 << 27)))
    }
}
