import Testing

@testable import RDData

@Suite("Batching and binarisation")
struct SamplingTests {
    @Test func epochOrderIsASeededPermutation() {
        let sampler = BatchSampler(count: 1000, batchSize: 100, seed: 7)
        let first = sampler.order(epoch: 0)
        #expect(first.sorted() == Array(0..<1000))
        #expect(first != Array(0..<1000))
        #expect(sampler.order(epoch: 0) == first)
        #expect(sampler.order(epoch: 1) != first)
        #expect(BatchSampler(count: 1000, batchSize: 100, seed: 8).order(epoch: 0) != first)
        #expect(BatchSampler(count: 5, batchSize: 2, seed: 7, shuffle: false).order(epoch: 3) == [0, 1, 2, 3, 4])
        // every position is reachable: over epochs, element 0 lands in both halves
        let positions = (0..<40).map { sampler.order(epoch: $0).firstIndex(of: 0)! }
        #expect(positions.contains { $0 < 500 } && positions.contains { $0 >= 500 })
    }

    @Test func batchesCoverTheEpoch() {
        let sampler = BatchSampler(count: 10, batchSize: 4, seed: 1)
        #expect(sampler.batches(epoch: 0).map(\.count) == [4, 4, 2])
        #expect(sampler.batches(epoch: 0).flatMap { $0 }.sorted() == Array(0..<10))
        let dropping = BatchSampler(count: 10, batchSize: 4, seed: 1, dropLast: true)
        #expect(dropping.batches(epoch: 0).map(\.count) == [4, 4] && dropping.batchesPerEpoch == 2)
    }

    /// Pixel j of every image has grey level j·255/783 (rounded), so its probability is known.
    static let grey = Dataset(name: "synthetic", split: "train", count: 200, height: 28, width: 28,
        bytes: (0..<(200 * 784)).map { UInt8((Double($0 % 784) * 255 / 783).rounded()) }, maximum: 255, labels: nil,
        isBinary: false, files: [])
    static func probability(_ j: Int) -> Float { Float(UInt8((Double(j) * 255 / 783).rounded())) * (1 / 255) }

    @Test func thresholdAndNone() {
        let out = Self.grey.batch([3], binarization: .threshold, seed: 0, epoch: 0)
        #expect(out == (0..<784).map { Self.probability($0) >= 0.5 ? 1 : 0 })
        #expect(Self.grey.batch([5], binarization: .none, seed: 0, epoch: 0) == Self.grey.image(5))
    }

    @Test func dynamicDrawsAreBernoulliAndReproducible() {
        let all = Array(0..<200)
        let draws = Self.grey.batch(all, binarization: .dynamic, seed: 11, epoch: 2)
        #expect(draws.allSatisfy { $0 == 0 || $0 == 1 })
        // per pixel position p the probability is p/783; compare observed frequency over 200 images
        var worst = 0.0
        for p in stride(from: 0, to: 784, by: 1) {
            let frequency = (0..<200).reduce(0.0) { $0 + Double(draws[$1 * 784 + p]) } / 200
            worst = max(worst, abs(frequency - Double(Self.probability(p))))
        }
        #expect(worst < 0.15, "largest deviation \(worst) over 784 Bernoulli means of 200 draws")
        let overall = draws.reduce(0.0) { $0 + Double($1) } / Double(draws.count)
        #expect(abs(overall - 0.5) < 0.01)
        #expect(Self.grey.batch(all, binarization: .dynamic, seed: 11, epoch: 2) == draws)
        #expect(Self.grey.batch(all, binarization: .dynamic, seed: 11, epoch: 3) != draws)
        // independent of batching: example 17 draws the same wherever it sits
        let alone = Self.grey.batch([17], binarization: .dynamic, seed: 11, epoch: 2)
        #expect(alone == Array(draws[(17 * 784)..<(18 * 784)]))
        let shuffled = Self.grey.batch([4, 17, 9], binarization: .dynamic, seed: 11, epoch: 2)
        #expect(Array(shuffled[784..<1568]) == alone)
    }
}
