/// A labelled data set for the probes: `count` feature vectors of `dimension` Floats, row
/// after row, each with a class label in `0 ..< classes`.
///
/// The features are the posterior means of one latent layer, flattened per example; the
/// labels are the data set's classes. The initialiser checks everything the probes rely on
/// (sizes, finite values, labels in range), so they need not check again.
public struct LabelledFeatures: Sendable, Equatable {
    /// Row-major `[count, dimension]`.
    public let features: [Float]
    /// `labels[i]` is the class of row `i`.
    public let labels: [Int]
    public let dimension: Int
    public let classes: Int

    /// The number of examples (rows).
    public var count: Int { labels.count }

    /// Throws ``ProbeError`` unless `features` holds `labels.count · dimension` finite values,
    /// `dimension ≥ 1`, `classes ≥ 2` and every label is in `0 ..< classes`. Zero examples
    /// are allowed here (a split may leave a part empty); the probes refuse them.
    public init(features: [Float], labels: [Int], dimension: Int, classes: Int) throws {
        guard classes >= 2 else { throw ProbeError.tooFewClasses(classes) }
        guard dimension >= 1 else { throw ProbeError.invalidSetting("the feature dimension", reason: "must be at least 1 (got \(dimension))") }
        guard features.count == labels.count * dimension else {
            throw ProbeError.sizeMismatch("the features of \(labels.count) examples of dimension \(dimension)",
                expected: labels.count * dimension, found: features.count)
        }
        if let bad = features.firstIndex(where: { !$0.isFinite }) { throw ProbeError.nonFiniteValue("the features", index: bad) }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw ProbeError.labelOutOfRange(label: labels[bad], index: bad, classes: classes)
        }
        self.features = features
        self.labels = labels
        self.dimension = dimension
        self.classes = classes
    }

    /// The examples at `indices`, in that order (indices may repeat).
    public func subset(_ indices: [Int]) throws -> LabelledFeatures {
        var rows: [Float] = []
        rows.reserveCapacity(indices.count * dimension)
        var picked: [Int] = []
        picked.reserveCapacity(indices.count)
        for index in indices {
            guard (0..<count).contains(index) else {
                throw ProbeError.invalidSetting("example index \(index)", reason: "is not one of 0 ..< \(count)")
            }
            rows.append(contentsOf: features[index * dimension ..< (index + 1) * dimension])
            picked.append(labels[index])
        }
        return try LabelledFeatures(features: rows, labels: picked, dimension: dimension, classes: classes)
    }

    /// How many examples each class has: `classCounts[c] = #{i : labels[i] = c}`.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The chance level: the largest class frequency `max_c n_c / N`, the accuracy of always
    /// answering the most common class (0 when there are no examples).
    public var majorityFrequency: Double {
        count == 0 ? 0 : Double(classCounts.max() ?? 0) / Double(count)
    }

    /// Throws unless `other` has the same dimension and classes (features for a probe fitted
    /// on `self`).
    func checkCompatible(_ other: LabelledFeatures, _ what: String) throws {
        guard other.dimension == dimension else {
            throw ProbeError.sizeMismatch("the dimension of \(what)", expected: dimension, found: other.dimension)
        }
        guard other.classes == classes else {
            throw ProbeError.sizeMismatch("the number of classes of \(what)", expected: classes, found: other.classes)
        }
    }
}
