import RDCompute

/// A k-nearest-neighbour classifier (sklearn's `KNeighborsClassifier()`: k = 5, Euclidean
/// distance, uniform majority vote), with the distances computed by the backend's GEMM.
///
/// For a query q and references r_j, the squared distance is expanded as
///
///     ‖q − r_j‖² = ‖q‖² + ‖r_j‖² − 2 q·r_j,
///
/// and since ‖q‖² is the same for every j, the neighbours are the k smallest scores
/// `s_j = ‖r_j‖² − 2 q·r_j`. A block of B queries takes one GEMM `−2 Q Rᵀ` (`[B, R]`); the
/// host adds ‖r_j‖² and keeps the k best of each row (a sorted insertion list: O(R) per query
/// with rare insertions). A block holds at most ``blockElements`` scores (16 MiB by default),
/// so 2,000 queries × 8,000 references × 256 dimensions is 4 GFLOP of GEMM in four blocks.
///
/// Ties are broken deterministically:
/// - equal distances: the reference with the smaller index is nearer (a stable order);
/// - the vote: among the classes with the most of the k neighbours, the class of the
///   nearest neighbour that belongs to one of them (sklearn takes the smallest class).
///
/// The expansion loses precision for points much closer together than their norms
/// (relative error ≈ 1e-7 · ‖r‖² in Float); that can only reorder neighbours whose distances
/// agree to that precision.
public struct NearestNeighbours: Sendable {
    /// The number of neighbours that vote.
    public let k: Int
    /// The labelled references (the probe's fitting set).
    public let references: LabelledFeatures
    public let backend: any Backend
    /// The references on the device, `[R, d]`.
    private let referenceBuffer: DeviceBuffer
    /// ‖r_j‖², in Float.
    private let referenceNorms: [Float]

    /// The most scores (queries × references) one GEMM block computes; a block has at least
    /// one query whatever this says.
    public let blockElements: Int

    /// Stores `references` on `backend`; `blockElements` bounds each GEMM block (2²² Floats,
    /// 16 MiB, by default). Throws for k < 1, fewer than k references, a block size below 1,
    /// and the backend's errors.
    public init(references: LabelledFeatures, k: Int = 5, blockElements: Int = 1 << 22, on backend: any Backend) throws {
        guard k >= 1 else { throw ProbeError.invalidSetting("k of k-nearest neighbours", reason: "must be at least 1 (got \(k))") }
        guard references.count >= k else { throw ProbeError.tooFewReferences(k: k, references: references.count) }
        guard blockElements >= 1 else {
            throw ProbeError.invalidSetting("the nearest-neighbour block size", reason: "must be at least 1 (got \(blockElements))")
        }
        self.k = k
        self.blockElements = blockElements
        self.references = references
        self.backend = backend
        referenceBuffer = try backend.makeBuffer(references.features)
        let d = references.dimension
        referenceNorms = references.features.withUnsafeBufferPointer { x in
            (0..<references.count).map { row in
                var sum: Float = 0
                for j in 0..<d { sum += x[row * d + j] * x[row * d + j] }
                return sum
            }
        }
    }

    /// The indices of the k nearest references of each query, nearest first. `queries` is
    /// row-major with rows of the references' dimension.
    public func neighbours(of queries: [Float]) throws -> [[Int]] {
        let d = references.dimension, r = references.count
        guard queries.count % d == 0 else {
            throw ProbeError.sizeMismatch("the queries (a multiple of the dimension \(d))", expected: queries.count / d * d,
                found: queries.count)
        }
        if let bad = queries.firstIndex(where: { !$0.isFinite }) { throw ProbeError.nonFiniteValue("the queries", index: bad) }
        let count = queries.count / d
        let block = max(1, min(count, blockElements / r))
        var result: [[Int]] = []
        result.reserveCapacity(count)
        var start = 0
        while start < count {
            let rows = min(block, count - start)
            let q = try backend.makeBuffer(Array(queries[start * d ..< (start + rows) * d]))
            let scores = try backend.makeBuffer(count: rows * r)
            try backend.gemm(GemmDescriptor(m: rows, n: r, k: d, transposeB: true, alpha: -2), a: q, b: referenceBuffer, c: scores)
            let host = try backend.download(scores)
            host.withUnsafeBufferPointer { s in
                referenceNorms.withUnsafeBufferPointer { norms in
                    for row in 0..<rows { result.append(Self.nearest(k, UnsafeBufferPointer(rebasing: s[row * r ..< (row + 1) * r]), norms)) }
                }
            }
            start += rows
        }
        return result
    }

    /// The k smallest `norms[j] + products[j]`, as indices in increasing order (ties: smaller
    /// index first).
    static func nearest(_ k: Int, _ products: UnsafeBufferPointer<Float>, _ norms: UnsafeBufferPointer<Float>) -> [Int] {
        var bestScore = [Float](repeating: .infinity, count: k), bestIndex = [Int](repeating: -1, count: k)
        var filled = 0
        for j in 0..<products.count {
            let score = norms[j] + products[j]
            // Strictly better than the current k-th (an equal score keeps the earlier index).
            if filled == k && !(score < bestScore[k - 1]) { continue }
            var position = min(filled, k - 1)
            while position > 0 && score < bestScore[position - 1] {
                bestScore[position] = bestScore[position - 1]
                bestIndex[position] = bestIndex[position - 1]
                position -= 1
            }
            bestScore[position] = score
            bestIndex[position] = j
            filled = min(filled + 1, k)
        }
        return bestIndex
    }

    /// The majority class of `labels` (neighbours' labels, nearest first); a tie goes to the
    /// tied class that appears first.
    public static func vote(_ labels: [Int], classes: Int) -> Int {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels where (0..<classes).contains(label) { counts[label] += 1 }
        let top = counts.max() ?? 0
        return labels.first { (0..<classes).contains($0) && counts[$0] == top } ?? 0
    }

    /// The predicted class of each query row.
    public func predict(_ queries: [Float]) throws -> [Int] {
        try neighbours(of: queries).map { indices in Self.vote(indices.map { references.labels[$0] }, classes: references.classes) }
    }

    /// The fraction of `data`'s examples whose class is predicted. Throws if `data` is empty
    /// or has another dimension or number of classes than the references.
    public func accuracy(on data: LabelledFeatures) throws -> Double {
        guard data.count > 0 else { throw ProbeError.noExamples("the nearest-neighbour probe's evaluation set") }
        try references.checkCompatible(data, "the nearest-neighbour probe's evaluation set")
        let predicted = try predict(data.features)
        return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(data.count)
    }

    /// ``accuracy(on:)`` for raw arrays: `features` row-major `[labels.count, dimension]`.
    public func accuracy(features: [Float], labels: [Int]) throws -> Double {
        try accuracy(on: try LabelledFeatures(features: features, labels: labels, dimension: references.dimension,
            classes: references.classes))
    }
}
