import RDCompute

/// A handle to an fp32 array on a backend, with its shape (row-major; images are NHWC).
///
/// Tensors are immutable values of the graph that made them; parameters are tensors that
/// live across graphs and are updated in place by the optimiser.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let buffer: DeviceBuffer
    /// Whether gradients flow to this tensor (parameters, and anything computed from them).
    public let requiresGradient: Bool

    public init(shape: [Int], buffer: DeviceBuffer, requiresGradient: Bool = false) {
        precondition(Broadcast.count(shape) == buffer.count, "shape \(shape) does not match \(buffer.count) elements")
        self.shape = shape
        self.buffer = buffer
        self.requiresGradient = requiresGradient
    }

    public var count: Int { buffer.count }

    /// The same data seen with another shape of equal size (no copy).
    func viewed(as newShape: [Int], requiresGradient: Bool) -> Tensor {
        Tensor(shape: newShape, buffer: buffer, requiresGradient: requiresGradient)
    }

    public var description: String { "Tensor\(shape) on \(buffer.ownerName)" }
}
