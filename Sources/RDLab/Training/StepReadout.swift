/// The values a step reads back from the device, in the order it reads them: the example
/// weights (where the output has them), the distortion, each layer's rate, the auxiliary
/// prior's rate (where there is one), and the loss of a training step.
///
/// An eager step downloads them from its graph and a replayed step (``StepPlan``) finds them
/// in the plan's readings; both reduce them here, so both give the same means.
struct StepReadout {
    let weighted: Bool
    let layers: Int
    let auxiliary: Bool

    /// The number of values a training step reads (the loss included).
    var count: Int { (weighted ? 1 : 0) + 1 + layers + (auxiliary ? 1 : 0) + 1 }

    init(_ output: ModelOutput) {
        weighted = output.weights != nil
        layers = output.rates.count
        auxiliary = output.auxiliaryPrior != nil
    }

    /// The tensors to read, in order, with `loss` last when given.
    static func tensors(_ output: ModelOutput, loss: Tensor?) -> [Tensor] {
        [output.weights].compactMap { $0 } + [output.distortion] + output.rates.map(\.rate)
            + [output.auxiliaryPrior?.rate, loss].compactMap { $0 }
    }

    /// The batch means (weighted by the example weights where there are some).
    func means<Values: RandomAccessCollection<Float>>(_ values: [Values]) -> RateDistortion where Values.Index == Int {
        var layerRates: [Double] = []
        return means(values, reusing: &layerRates)
    }

    /// The batch means, the layers' rates written into `layerRates` and shared with the result:
    /// when the caller has dropped the previous step's result, the array is written in place
    /// and a step allocates nothing for them.
    func means<Values: RandomAccessCollection<Float>>(_ values: [Values], reusing layerRates: inout [Double])
        -> RateDistortion where Values.Index == Int {
        let weights = weighted ? values[0] : nil
        func mean(_ read: Int) -> Double {
            let x = values[read + (weighted ? 1 : 0)]
            guard let weights else { return x.reduce(0.0) { $0 + Double($1) } / Double(x.count) }
            var sum = 0.0
            for i in x.indices { sum += Double(x[i]) * Double(weights[i]) }
            return sum
        }
        if layerRates.count != layers { layerRates = [Double](repeating: 0, count: layers) }
        for layer in 0..<layers { layerRates[layer] = mean(1 + layer) }
        return RateDistortion(rate: layerRates.reduce(0, +), distortion: mean(0), layerRates: layerRates,
            auxiliaryRate: auxiliary ? mean(1 + layers) : nil)
    }

    /// The loss of a training step's values (read last).
    func loss<Values: RandomAccessCollection<Float>>(_ values: [Values]) -> Float where Values.Index == Int {
        values[values.count - 1][0]
    }
}
