import RDLab

extension BenchCase {
    /// One training step of HIT's MNIST models at HIT's batch 256 (Adam, β₁ = β₂ = 1): the unit
    /// `Benchmarks/hit-reference/hit_torch_step.py` times for PyTorch on the same model.
    static var hierarchicalSteps: [BenchCase] {
        HierarchicalSpec.Inference.allCases.map { inference in
            trainingStep(.hierarchical(HierarchicalSpec(inference: inference)), " hit \(inference.rawValue)", batch: 256, flops: 0)
        }
    }
}
