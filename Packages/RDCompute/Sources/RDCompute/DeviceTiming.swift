/// A backend that can time its own kernels on the device (OpenCL profiling events), so a
/// benchmark measures the device's work rather than the host's launch overhead.
public protocol DeviceTimedBackend: Backend {
    /// Starts recording every kernel enqueued from now on.
    func startDeviceTimer() throws
    /// Stops recording, waits for the recorded kernels and returns their summed execution time
    /// in microseconds (start to end of each kernel; host transfers excluded), or nil when the
    /// driver reports no profiling data.
    func stopDeviceTimer() throws -> Double?
}
