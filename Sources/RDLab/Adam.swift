import RDCompute

/// Adam over named parameters with the backend's fused step, optionally on normalised
/// gradients (Alemi F.4, Yu et al.: each tensor's gradient divided by its L2 norm + 1e-7).
public final class Adam {
    public var hyperparameters: AdamParameters
    public let normalizeGradients: Bool
    /// Steps taken so far (the `t` of bias correction).
    public private(set) var step = 0
    let backend: any Backend
    private(set) var moments: [String: (first: DeviceBuffer, second: DeviceBuffer)] = [:]

    public init(backend: any Backend, hyperparameters: AdamParameters = AdamParameters(), normalizeGradients: Bool = false) {
        self.backend = backend
        self.hyperparameters = hyperparameters
        self.normalizeGradients = normalizeGradients
    }

    /// Updates every parameter that has a gradient in `graph`, with `graph`'s backend (a step
    /// recorder's, while a step plan is recorded).
    public func update(_ parameters: [Parameter], gradientsFrom graph: Graph) throws {
        let backend = graph.backend
        step += 1
        for parameter in parameters {
            guard var gradient = graph.gradient(of: parameter.tensor) else { continue }
            if normalizeGradients { gradient = try normalized(gradient, on: backend) }
            let state = try moments[parameter.name] ?? {
                let backend = self.backend  // moments outlive the step
                let first = try backend.makeBuffer(count: parameter.tensor.count)
                let second = try backend.makeBuffer(count: parameter.tensor.count)
                try backend.fill(first, with: 0)
                try backend.fill(second, with: 0)
                return (first, second)
            }()
            moments[parameter.name] = state
            try backend.adamStep(hyperparameters, step: step, parameter: parameter.tensor.buffer, gradient: gradient,
                firstMoment: state.first, secondMoment: state.second)
        }
    }

    /// Counts a step whose updates a replayed step plan has made.
    func advance() { step += 1 }

    /// Host copies of the moments, for checkpoints.
    public func momentValues() throws -> [String: (first: [Float], second: [Float])] {
        try moments.mapValues { (try backend.download($0.first), try backend.download($0.second)) }
    }

    /// Restores the step count and moments saved by ``momentValues()``, into the moments'
    /// buffers where they exist (a step plan keeps using them).
    public func restore(step: Int, moments saved: [String: (first: [Float], second: [Float])]) throws {
        self.step = step
        var restored: [String: (first: DeviceBuffer, second: DeviceBuffer)] = [:]
        for (name, values) in saved {
            if let existing = moments[name], existing.first.count == values.first.count,
                existing.second.count == values.second.count {
                try backend.upload(values.first, to: existing.first)
                try backend.upload(values.second, to: existing.second)
                restored[name] = existing
            } else {
                restored[name] = (try backend.makeBuffer(values.first), try backend.makeBuffer(values.second))
            }
        }
        moments = restored
    }

    /// `g / (‖g‖₂ + 1e-7)`, computed on `backend`.
    func normalized(_ g: DeviceBuffer, on backend: any Backend) throws -> DeviceBuffer {
        let squares = try backend.makeBuffer(count: g.count)
        try backend.unary(.square, g, output: squares)
        let norm = try backend.makeBuffer(count: 1)
        try backend.reduce(.sum, squares, shape: [g.count], axes: [0], output: norm)
        try backend.unary(.sqrt, norm, output: norm)
        try backend.binary(.add, norm, shape: [1], try backend.makeBuffer([1e-7]), shape: [1], output: norm)
        let out = try backend.makeBuffer(count: g.count)
        try backend.binary(.div, g, shape: [g.count], norm, shape: [1], output: out)
        return out
    }
}
