import COpenCL
import RDCompute

extension OpenCLBackend: DeviceTimedBackend {
    public func startDeviceTimer() throws {
        withTimedEvents { $0 = [] }
    }

    /// Kernels and buffer copies count; a call that enqueued neither gives nil (wall time then).
    public func stopDeviceTimer() throws -> Double? {
        try synchronize()
        var events: [cl_event]?
        withTimedEvents { swap(&events, &$0) }
        var total: cl_ulong = 0
        var complete = true
        for event in events ?? [] {
            var start: cl_ulong = 0, end: cl_ulong = 0
            if api.getEventProfilingInfo(event, cl_uint(CL_PROFILING_COMMAND_START), 8, &start, nil) == CL_SUCCESS,
                api.getEventProfilingInfo(event, cl_uint(CL_PROFILING_COMMAND_END), 8, &end, nil) == CL_SUCCESS, end >= start {
                total += end - start
            } else {
                complete = false
            }
            _ = api.releaseEvent(event)
        }
        return complete && events?.isEmpty == false ? Double(total) / 1000 : nil
    }
}
