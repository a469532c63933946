import RDData
import RDLab

/// A run's image data: training batches from the sampler (binarised per epoch with the run's
/// seed), test batches in order (binarised with the seed, epoch 0), `[B, H, W, 1]`.
final class ImageRunData: RunData {
    let train: Dataset
    let test: Dataset
    let binarization: Binarization
    let seed: UInt64
    let batchSize: Int
    let sampler: BatchSampler
    /// The batches of the epoch last asked for (a shuffle of the training set per epoch, not per step).
    private var epochBatches: (epoch: Int, batches: [ArraySlice<Int>])?

    init(train: Dataset, test: Dataset, binarization: Binarization, seed: UInt64, batchSize: Int) {
        self.train = train
        self.test = test
        self.binarization = binarization
        self.seed = seed
        self.batchSize = batchSize
        sampler = BatchSampler(count: train.count, batchSize: batchSize, seed: seed, dropLast: false)
    }

    var source: String { train.files[0] }
    var trainingExamples: Int { train.count }
    var stepsPerEpoch: Int { sampler.batchesPerEpoch }
    var exampleShape: [Int] { [train.height, train.width, 1] }

    func trainingBatch(epoch: Int, index: Int) -> HostBatch {
        if epochBatches?.epoch != epoch { epochBatches = (epoch, sampler.batches(epoch: epoch)) }
        let indices = epochBatches!.batches[index]
        return HostBatch(values: train.batch(indices, binarization: binarization, seed: seed, epoch: epoch),
            shape: [indices.count] + exampleShape)
    }

    var testExamples: Int { test.count }
    var testBatchCount: Int { (test.count + batchSize - 1) / batchSize }

    func testBatch(_ index: Int) -> HostBatch {
        let indices = (index * batchSize)..<min((index + 1) * batchSize, test.count)
        return HostBatch(values: test.batch(indices, binarization: binarization, seed: seed, epoch: 0),
            shape: [indices.count, test.height, test.width, 1])
    }
}
