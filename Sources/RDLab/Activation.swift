/// The nonlinearity after a layer. `gated` is Alemi's gated unit `(W₁x + b₁)·σ(W₂x + b₂)`:
/// the layer then owns a second kernel and bias (`<name>.gate.weight`, `<name>.gate.bias`).
public enum Activation: String, Sendable, CaseIterable {
    case linear, relu, softplus, tanh, sigmoid, gated

    func apply(_ x: Tensor, in graph: Graph) throws -> Tensor {
        switch self {
        case .linear, .gated: x
        case .relu: try graph.relu(x)
        case .softplus: try graph.softplus(x)
        case .tanh: try graph.tanh(x)
        case .sigmoid: try graph.sigmoid(x)
        }
    }
}
