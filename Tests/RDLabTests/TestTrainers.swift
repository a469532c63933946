import RDCompute
import RDLab

/// Shorthands of the tests for training image models on `[B, 28, 28, 1]` host batches.
extension ModelTrainer {
    /// Adam (learning rate `lr`, constant) on E[D + β·R].
    static func plain(_ model: any RateDistortionModel, lr: Float = 3e-4, beta: Float = 1, steps: Int = 1, seed: UInt64,
        optimizer: Adam? = nil) -> ModelTrainer {
        ModelTrainer(model: model, optimizer: optimizer ?? Adam(backend: model.backend, hyperparameters: AdamParameters(learningRate: lr)),
            objective: Objective(ObjectiveSpec(weight: .constant(beta: beta))),
            learningRate: LearningRateSchedule(kind: .constant, learningRate: lr, totalSteps: steps), seed: seed)
    }

    func train(_ images: [Float], batch: Int) throws -> RateDistortion {
        try train(HostBatch(values: images, shape: [batch, 28, 28, 1]))
    }

    func evaluate(_ images: [Float], batch: Int, index: Int) throws -> RateDistortion {
        try evaluate(HostBatch(values: images, shape: [batch, 28, 28, 1]), index: index)
    }
}

extension ModelOutput {
    /// The one layer's rate `[B]`.
    var rate: Tensor { rates[0].rate }
}

extension ModelSpec {
    /// The convolutional model of an image spec.
    func conv(_ backend: any Backend, seed: UInt64) throws -> ConvAutoencoder {
        switch self {
        case .alemi(let spec): try ConvAutoencoder(spec, backend: backend, seed: seed)
        case .echo(let spec): try ConvAutoencoder(spec, backend: backend, seed: seed)
        case .toy, .hierarchical, .delta: fatalError("the \(kind.rawValue) model is not a ConvAutoencoder")
        }
    }
}
