import RDLab

extension BenchCase {
    /// One training step of the δ-VAE's sequence model at batch 100 (the seed-spec's MNIST
    /// setting: 28 rows × 8 dims, PixelCNN 64 × 2), with and without the auxiliary LSTM prior,
    /// so that the prior's cost per step reads as the difference.
    static var deltaSteps: [BenchCase] {
        [trainingStep(.delta(DeltaSpec()), " delta", flops: 0),
         trainingStep(.delta(DeltaSpec(auxiliaryHidden: 0)), " delta no auxiliary prior", flops: 0)]
    }
}
