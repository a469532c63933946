import COpenCL
import Foundation
import RDCompute

/// The OpenCL 1.2 entry points, resolved from the ICD loader at run time.
///
/// Loading with `dlopen` keeps `libOpenCL.so.1` out of rdlab's link line: on a machine
/// without it, `rdlab` still starts and the OpenCL request falls back to the CPU with the
/// reason. `RDLAB_OPENCL_LIBRARY` names another loader (a path or a soname).
struct OpenCLAPI: @unchecked Sendable {
    typealias Info = @convention(c) (OpaquePointer?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
    typealias Info2 = @convention(c) (OpaquePointer?, OpaquePointer?, cl_uint, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
    typealias Release = @convention(c) (OpaquePointer?) -> cl_int
    typealias Events = UnsafePointer<cl_event?>?
    typealias EventOut = UnsafeMutablePointer<cl_event?>?

    let getPlatformIDs: @convention(c) (cl_uint, UnsafeMutablePointer<cl_platform_id?>?, UnsafeMutablePointer<cl_uint>?) -> cl_int
    let getPlatformInfo: Info
    let getDeviceIDs: @convention(c) (cl_platform_id?, cl_device_type, cl_uint, UnsafeMutablePointer<cl_device_id?>?, UnsafeMutablePointer<cl_uint>?) -> cl_int
    let getDeviceInfo: Info
    let createContext: @convention(c) (UnsafePointer<cl_context_properties>?, cl_uint, UnsafePointer<cl_device_id?>?, OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<cl_int>?) -> cl_context?
    let releaseContext: Release
    let createCommandQueue: @convention(c) (cl_context?, cl_device_id?, cl_command_queue_properties, UnsafeMutablePointer<cl_int>?) -> cl_command_queue?
    let releaseCommandQueue: Release
    let createBuffer: @convention(c) (cl_context?, cl_mem_flags, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<cl_int>?) -> cl_mem?
    let releaseMemObject: Release
    let enqueueWriteBuffer: @convention(c) (cl_command_queue?, cl_mem?, cl_bool, Int, Int, UnsafeRawPointer?, cl_uint, Events, EventOut) -> cl_int
    let enqueueReadBuffer: @convention(c) (cl_command_queue?, cl_mem?, cl_bool, Int, Int, UnsafeMutableRawPointer?, cl_uint, Events, EventOut) -> cl_int
    let enqueueCopyBuffer: @convention(c) (cl_command_queue?, cl_mem?, cl_mem?, Int, Int, Int, cl_uint, Events, EventOut) -> cl_int
    let enqueueFillBuffer: @convention(c) (cl_command_queue?, cl_mem?, UnsafeRawPointer?, Int, Int, Int, cl_uint, Events, EventOut) -> cl_int
    let createProgramWithSource: @convention(c) (cl_context?, cl_uint, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?, UnsafeMutablePointer<cl_int>?) -> cl_program?
    let createProgramWithBinary: @convention(c) (cl_context?, cl_uint, UnsafePointer<cl_device_id?>?, UnsafePointer<Int>?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<cl_int>?, UnsafeMutablePointer<cl_int>?) -> cl_program?
    let buildProgram: @convention(c) (cl_program?, cl_uint, UnsafePointer<cl_device_id?>?, UnsafePointer<CChar>?, OpaquePointer?, UnsafeMutableRawPointer?) -> cl_int
    let getProgramBuildInfo: Info2
    let getProgramInfo: Info
    let releaseProgram: Release
    let createKernel: @convention(c) (cl_program?, UnsafePointer<CChar>?, UnsafeMutablePointer<cl_int>?) -> cl_kernel?
    let releaseKernel: Release
    let setKernelArg: @convention(c) (cl_kernel?, cl_uint, Int, UnsafeRawPointer?) -> cl_int
    let getKernelWorkGroupInfo: Info2
    let enqueueNDRangeKernel: @convention(c) (cl_command_queue?, cl_kernel?, cl_uint, UnsafePointer<Int>?, UnsafePointer<Int>?, UnsafePointer<Int>?, cl_uint, Events, EventOut) -> cl_int
    let finish: Release
    let getEventInfo: Info
    let getEventProfilingInfo: Info
    let releaseEvent: Release

    /// The process-wide loader, or why there is none.
    static let shared: Result<OpenCLAPI, ComputeError> = load()

    static func load() -> Result<OpenCLAPI, ComputeError> {
        let env = ProcessInfo.processInfo.environment["RDLAB_OPENCL_LIBRARY"]
        #if os(macOS)
        let candidates = [env, "/System/Library/Frameworks/OpenCL.framework/OpenCL"].compactMap { $0 }
        #else
        let candidates = [env, "libOpenCL.so.1", "libOpenCL.so"].compactMap { $0 }
        #endif
        var handle: UnsafeMutableRawPointer?
        for name in candidates where handle == nil {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
        }
        guard let handle else {
            return .failure(.noDevice(backend: "opencl",
                reason: "no OpenCL ICD loader (tried \(candidates.joined(separator: ", "))); install ocl-icd-libopencl1 and a driver (pocl-opencl-icd, NVIDIA, ROCm, Intel)"))
        }
        var missing: [String] = []
        func symbol<T>(_ name: String) -> T {
            guard let pointer = dlsym(handle, name) else {
                missing.append(name)
                return unsafeBitCast(dlsym(handle, "clGetPlatformIDs") ?? UnsafeMutableRawPointer(bitPattern: 1)!, to: T.self)
            }
            return unsafeBitCast(pointer, to: T.self)
        }
        let api = OpenCLAPI(
            getPlatformIDs: symbol("clGetPlatformIDs"), getPlatformInfo: symbol("clGetPlatformInfo"),
            getDeviceIDs: symbol("clGetDeviceIDs"), getDeviceInfo: symbol("clGetDeviceInfo"),
            createContext: symbol("clCreateContext"), releaseContext: symbol("clReleaseContext"),
            createCommandQueue: symbol("clCreateCommandQueue"), releaseCommandQueue: symbol("clReleaseCommandQueue"),
            createBuffer: symbol("clCreateBuffer"), releaseMemObject: symbol("clReleaseMemObject"),
            enqueueWriteBuffer: symbol("clEnqueueWriteBuffer"), enqueueReadBuffer: symbol("clEnqueueReadBuffer"),
            enqueueCopyBuffer: symbol("clEnqueueCopyBuffer"), enqueueFillBuffer: symbol("clEnqueueFillBuffer"),
            createProgramWithSource: symbol("clCreateProgramWithSource"),
            createProgramWithBinary: symbol("clCreateProgramWithBinary"), buildProgram: symbol("clBuildProgram"),
            getProgramBuildInfo: symbol("clGetProgramBuildInfo"), getProgramInfo: symbol("clGetProgramInfo"),
            releaseProgram: symbol("clReleaseProgram"), createKernel: symbol("clCreateKernel"),
            releaseKernel: symbol("clReleaseKernel"), setKernelArg: symbol("clSetKernelArg"),
            getKernelWorkGroupInfo: symbol("clGetKernelWorkGroupInfo"),
            enqueueNDRangeKernel: symbol("clEnqueueNDRangeKernel"), finish: symbol("clFinish"),
            getEventInfo: symbol("clGetEventInfo"), getEventProfilingInfo: symbol("clGetEventProfilingInfo"),
            releaseEvent: symbol("clReleaseEvent"))
        guard missing.isEmpty else {
            return .failure(.noDevice(backend: "opencl",
                reason: "the OpenCL loader lacks OpenCL 1.2 entry points: \(missing.joined(separator: ", "))"))
        }
        return .success(api)
    }

    /// Throws ``ComputeError/driver(call:code:device:)`` (or out-of-memory) unless `code` is success.
    static func check(_ code: cl_int, _ call: String, device: String) throws {
        guard code != CL_SUCCESS else { return }
        if code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES || code == CL_OUT_OF_HOST_MEMORY {
            throw ComputeError.outOfDeviceMemory(device: device, requestedBytes: 0)
        }
        throw ComputeError.driver(call: call, code: code, device: device)
    }

    /// A string-valued info query.
    static func string(_ query: Info, _ object: OpaquePointer?, _ name: cl_uint) -> String {
        var size = 0
        guard query(object, name, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size + 1)
        guard query(object, name, size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
    }

    /// A fixed-size info query.
    static func value<T>(_ query: Info, _ object: OpaquePointer?, _ name: cl_uint, default fallback: T) -> T {
        var result = fallback
        let code = withUnsafeMutableBytes(of: &result) { query(object, name, $0.count, $0.baseAddress, nil) }
        return code == CL_SUCCESS ? result : fallback
    }
}
