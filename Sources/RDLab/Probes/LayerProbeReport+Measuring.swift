import RDCompute

extension LayerProbeReport {
    /// Runs every probe on one layer: splits `data` (the layer's posterior means with their
    /// labels) by `split`, fits the logistic probe and the k-NN references on the fitting part,
    /// measures both on the held-out part, and bounds the accuracy by the layer's rate.
    ///
    /// The bound takes H(Y) from the labels of all of `data` (the distribution the rate was
    /// measured on) and `rateNats` as the information; the chance level is the held-out
    /// part's majority frequency, the baseline of the two accuracies beside it.
    ///
    /// Throws ``ProbeError`` (an empty part, fewer fitting examples than k, a NaN rate) and
    /// the backend's errors.
    public static func measure(layer: String, data: LabelledFeatures, rateNats: Double, split: ProbeSplit,
        linearProbe: LinearProbe = LinearProbe(), neighbours k: Int = 5, on backend: any Backend) throws -> LayerProbeReport {
        let (fitting, heldOut) = try split.parts(of: data)
        guard heldOut.count > 0 else { throw ProbeError.noExamples("the held-out part of layer \(layer)") }
        let logistic = try linearProbe.fit(fitting, on: backend).accuracy(on: heldOut)
        let nearest = try NearestNeighbours(references: fitting, k: k, on: backend).accuracy(on: heldOut)
        let bound = try InformationBound(classCounts: data.classCounts).maximumAccuracy(information: rateNats)
        return LayerProbeReport(layer: layer, dimension: data.dimension, logisticAccuracy: logistic,
            nearestNeighbourAccuracy: nearest, rateNats: rateNats, boundAccuracy: bound, chanceAccuracy: heldOut.majorityFrequency)
    }
}
