import Foundation
import RDCompute

/// Peak signal-to-noise ratio of reconstructions against their targets, accumulated over
/// batches and computed over all pixels of all images at once:
///
///     MSE  = Σ_{images, pixels} (x̂ − x)² / (number of pixels in all images)
///     PSNR = 10 · log10(R² / MSE)   (decibels, R the data range, 1 for images in [0, 1])
///
/// This is torchmetrics' `PeakSignalNoiseRatio()` as HIT calls it (`reduction` over the whole
/// set, not a mean of per-image PSNRs). With `data_range=None`, torchmetrics takes R from the
/// targets' max − min; for test sets in [0, 1] with black and white pixels that is 1, the
/// default here. Values are not clamped.
///
/// MSE = 0 (perfect reconstructions) gives `+∞`: the accumulator never traps, and a JSON
/// report, which cannot hold infinity, records it as absent (``ProbeReport/psnrDecibels``).
public struct PSNRAccumulator: Sendable, Equatable {
    /// R.
    public let dataRange: Double
    /// Σ (x̂ − x)², in Double.
    public private(set) var squaredError: Double = 0
    /// The number of pixel values accumulated.
    public private(set) var count: Int = 0

    /// Throws unless `dataRange` is positive and finite.
    public init(dataRange: Double = 1) throws {
        guard dataRange > 0, dataRange.isFinite else {
            throw ProbeError.invalidSetting("the PSNR's data range", reason: "must be positive and finite (got \(dataRange))")
        }
        self.dataRange = dataRange
    }

    /// Adds a batch of host values (any layout, the same for both). Throws if the sizes
    /// differ or a value is NaN or infinite.
    public mutating func add(reconstructions: [Float], targets: [Float]) throws {
        guard reconstructions.count == targets.count else {
            throw ProbeError.sizeMismatch("the reconstructions", expected: targets.count, found: reconstructions.count)
        }
        var sum = 0.0
        for i in reconstructions.indices {
            let difference = Double(reconstructions[i]) - Double(targets[i])
            guard difference.isFinite else { throw ProbeError.nonFiniteValue("the reconstructions or targets", index: i) }
            sum += difference * difference
        }
        squaredError += sum
        count += reconstructions.count
    }

    /// Adds a batch held on `backend`: the squared error is summed on the device (in Float)
    /// and only the sum crosses to the host. Throws if the sizes differ, the sum is not finite,
    /// or for the backend's errors.
    public mutating func add(reconstructions: DeviceBuffer, targets: DeviceBuffer, on backend: any Backend) throws {
        guard reconstructions.count == targets.count else {
            throw ProbeError.sizeMismatch("the reconstructions", expected: targets.count, found: reconstructions.count)
        }
        guard targets.count > 0 else { return }
        let shape = [targets.count]
        let squares = try backend.makeBuffer(count: targets.count)
        try backend.binary(.sub, reconstructions, shape: shape, targets, shape: shape, output: squares)
        try backend.unary(.square, squares, output: squares)
        let total = try backend.makeBuffer(count: 1)
        try backend.reduce(.sum, squares, shape: shape, axes: [0], output: total)
        let sum = Double(try backend.download(total)[0])
        guard sum.isFinite else { throw ProbeError.nonFiniteValue("the squared error of the reconstructions", index: 0) }
        squaredError += sum
        count += targets.count
    }

    /// Σ (x̂ − x)² / count. Throws before anything was added.
    public func meanSquaredError() throws -> Double {
        guard count > 0 else { throw ProbeError.nothingAccumulated("the PSNR") }
        return squaredError / Double(count)
    }

    /// 10 · log10(R² / MSE) in dB; `+∞` when MSE = 0. Throws before anything was added.
    public func decibels() throws -> Double {
        let mse = try meanSquaredError()
        guard mse > 0 else { return .infinity }
        return 10 * Foundation.log10(dataRange * dataRange / mse)
    }
}
