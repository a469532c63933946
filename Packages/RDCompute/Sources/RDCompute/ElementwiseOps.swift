import Foundation

/// Elementwise functions of one argument. Raw values are the op codes the kernels use.
public enum UnaryOp: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case relu = 0, sigmoid, logSigmoid, softplus, tanh, exp, log, square, sqrt

    public var description: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .logSigmoid: "log-sigmoid"
        case .softplus: "softplus"
        case .tanh: "tanh"
        case .exp: "exp"
        case .log: "log"
        case .square: "square"
        case .sqrt: "sqrt"
        }
    }
}

/// Elementwise functions of two arguments, broadcast with NumPy's rules.
public enum BinaryOp: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case add = 0, sub, mul, div, max

    public var description: String {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .max: "max"
        }
    }
}

/// Reductions over a set of axes.
public enum ReduceOp: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case sum = 0, mean, max

    public var description: String {
        switch self {
        case .sum: "sum"
        case .mean: "mean"
        case .max: "max"
        }
    }
}

/// Hyper-parameters of the fused Adam step (Kingma & Ba, with bias correction).
///
/// `weightDecay` is classic L2 (added to the gradient before the moments, as PyTorch's
/// `Adam(weight_decay=)`), zero by default.
public struct AdamParameters: Sendable, Equatable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(
        learningRate: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Bias-corrected step size and the `1 / (1 − β2^t)` factor for step `t ≥ 1`, computed
    /// once on the host in Double so that every backend uses the same two numbers.
    public func corrections(step: Int) -> (stepSize: Float, secondMomentScale: Float) {
        let t = Double(step)
        let c1 = 1 - Foundation.pow(Double(beta1), t)
        let c2 = 1 - Foundation.pow(Double(beta2), t)
        return (Float(Double(learningRate) / c1), Float(1 / c2))
    }
}
