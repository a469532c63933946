import RDLab

extension BenchCase {
    /// One training step of the δ-VAE's sequence model at batch 100: the seed-spec's MNIST
    /// setting (28 rows × 8 dims, PixelCNN 64 × 2, a 128-unit auxiliary LSTM), and a small
    /// decoder (8 × 1) with and without the auxiliary prior, whose difference is the LSTM's
    /// cost per step.
    static var deltaSteps: [BenchCase] {
        [trainingStep(.delta(DeltaSpec()), " delta", flops: 0),
         trainingStep(.delta(DeltaSpec(pixelcnnFeatures: 8, pixelcnnResnets: 1)), " delta pixelcnn 8x1", flops: 0),
         trainingStep(.delta(DeltaSpec(pixelcnnFeatures: 8, pixelcnnResnets: 1, auxiliaryHidden: 0)),
             " delta pixelcnn 8x1 no auxiliary prior", flops: 0)]
    }
}
