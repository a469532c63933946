/// The examples a run trains and evaluates on, as host batches: image datasets (the CLI's
/// adapter over RDData), or a model's own exact distribution (``ToyDistribution``).
public protocol RunData {
    /// Where the examples come from, for logs and errors (a file, or the toy distribution).
    var source: String { get }
    var trainingExamples: Int { get }
    /// Training batches per epoch.
    var stepsPerEpoch: Int { get }
    /// Batch `index` of `epoch`, the same on every run with the same seed (resume depends on it).
    func trainingBatch(epoch: Int, index: Int) -> HostBatch
    var testExamples: Int { get }
    var testBatchCount: Int { get }
    /// Test batch `index`, the same in every evaluation.
    func testBatch(_ index: Int) -> HostBatch
}
