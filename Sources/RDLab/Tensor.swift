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

    /// The tape record that computed this tensor; nil for leaves (parameters, inputs, constants).
    let origin: TapeOrigin?

    /// A leaf: its gradient, if it requires one, is kept by the graph until the graph ends.
    public convenience init(shape: [Int], buffer: DeviceBuffer, requiresGradient: Bool = false) {
        self.init(shape: shape, buffer: buffer, requiresGradient: requiresGradient, origin: nil)
    }

    init(shape: [Int], buffer: DeviceBuffer, requiresGradient: Bool, origin: TapeOrigin?) {
        precondition(Broadcast.count(shape) == buffer.count, "shape \(shape) does not match \(buffer.count) elements")
        self.shape = shape
        self.buffer = buffer
        self.requiresGradient = requiresGradient
        self.origin = origin
    }

    public var count: Int { buffer.count }

    public var description: String { "Tensor\(shape) on \(buffer.ownerName)" }
}

/// Which graph's record computed a tensor: the graph's serial number and the record's index.
struct TapeOrigin: Equatable {
    let tape: Int
    let record: Int
}
