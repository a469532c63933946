import Foundation
import RDCompute
import RDLab
import RDTestSupport
import Testing

/// The evaluation probes of HIT: Meyen's accuracy bound, the logistic and k-NN probes, the
/// seeded split, PSNR and the report.
@Suite("Probes")
struct ProbeTests {
    // MARK: Data

    /// A standard normal from two uniforms (Box–Muller).
    static func normal(_ data: inout TestData) -> Double {
        let u = max(data.next(), 1e-300), v = data.next()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// `perClass` points of each of `classes` Gaussian blobs (σ = 1) in `dimension`
    /// dimensions, blob c centred at `separation · e_c`, interleaved by class.
    static func blobs(classes: Int, perClass: Int, dimension: Int, separation: Double, seed: UInt64) throws -> LabelledFeatures {
        var data = TestData(seed: seed)
        var features: [Float] = [], labels: [Int] = []
        for _ in 0..<perClass {
            for c in 0..<classes {
                for j in 0..<dimension { features.append(Float((j == c ? separation : 0) + normal(&data))) }
                labels.append(c)
            }
        }
        return try LabelledFeatures(features: features, labels: labels, dimension: dimension, classes: classes)
    }

    // MARK: Information bound

    @Test func boundIncreasesOnItsInterval() throws {
        for counts in [[5, 5], [1, 3], [10, 10, 10], [1, 2, 7], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [1, 0, 4, 9, 2]] {
            let bound = try InformationBound(classCounts: counts)
            let m = Double(counts.count)
            var previous = -Double.infinity
            for step in 0...1000 {
                let alpha = 1 / m + (1 - 1 / m) * Double(step) / 1000
                let g = try bound.minimumInformation(accuracy: alpha)
                #expect(g >= previous - 1e-12, "\(counts) at α = \(alpha)")
                previous = g
            }
            #expect(abs(try bound.minimumInformation(accuracy: 1) - bound.labelEntropy) < 1e-15)
            #expect(try bound.minimumInformation(accuracy: 1 / m) <= 1e-12)
        }
    }

    @Test func boundIsZeroAtChanceForUniformLabels() throws {
        for m in [2, 3, 10, 100] {
            let bound = try InformationBound(classes: m, labelEntropy: Foundation.log(Double(m)))
            #expect(abs(try bound.minimumInformation(accuracy: 1 / Double(m))) < 1e-12, "M = \(m)")
            #expect(try bound.maximumAccuracy(information: 0) - 1 / Double(m) < 1e-6, "M = \(m)")
            #expect(try bound.maximumAccuracy(information: 0) >= 1 / Double(m))
        }
    }

    @Test func maximumAccuracyInvertsTheBound() throws {
        for bound in [try InformationBound(classes: 10, labelEntropy: Foundation.log(10)), try InformationBound(classCounts: [1, 2, 7]),
            try InformationBound(classes: 2, labelEntropy: Foundation.log(2))] {
            let chance = bound.chanceAccuracy
            for alpha in stride(from: chance + 0.02, to: 1, by: 0.01) + [0.999, 0.999_999] {
                let information = try bound.minimumInformation(accuracy: alpha)
                let inverted = try bound.maximumAccuracy(information: information)
                #expect(abs(inverted - alpha) < 1e-9, "M = \(bound.classes), α = \(alpha): got \(inverted)")
                #expect(try bound.minimumInformation(accuracy: inverted) <= information)
            }
        }
    }

    @Test func maximumAccuracyAtTheEnds() throws {
        let uniform = try InformationBound(classes: 10, labelEntropy: Foundation.log(10))
        #expect(try uniform.maximumAccuracy(information: 1e6) == 1)
        #expect(try uniform.maximumAccuracy(information: .infinity) == 1)
        #expect(try uniform.maximumAccuracy(information: Foundation.log(10)) == 1)
        #expect(try uniform.maximumAccuracy(information: -1) == 0.1)
        #expect(try uniform.maximumAccuracy(information: -.infinity) == 0.1)
        do {
            _ = try uniform.maximumAccuracy(information: .nan)
            Issue.record("NaN information accepted")
        } catch ProbeError.nonFiniteInformation {}

        // Skewed labels: g(1/M) < 0, and zero information still allows the majority class.
        let counts = [1, 2, 7]
        let skewed = try InformationBound(classCounts: counts)
        #expect(try skewed.minimumInformation(accuracy: 1 / 3) < -0.1)
        let atZero = try skewed.maximumAccuracy(information: 0)
        #expect(atZero >= 0.7 && atZero < 1, "\(atZero)")
        #expect(abs(try skewed.minimumInformation(accuracy: atZero)) < 1e-12)
        #expect(try skewed.maximumAccuracy(information: -5) == 1 / 3)
    }

    /// M = 2: ln(M − 1) = 0, so g(α) = H(Y) − H_b(α).
    @Test func twoClasses() throws {
        let bound = try InformationBound(classCounts: [50, 50])
        let hb = -0.9 * Foundation.log(0.9) - 0.1 * Foundation.log(0.1)
        #expect(abs(try bound.minimumInformation(accuracy: 0.9) - (Foundation.log(2) - hb)) < 1e-15)
        #expect(abs(try bound.maximumAccuracy(information: Foundation.log(2) - hb) - 0.9) < 1e-12)
        #expect(try bound.minimumInformation(accuracy: 1) == Foundation.log(2))
    }

    @Test func labelEntropyFromCounts() throws {
        let bound = try InformationBound(classCounts: [1, 1, 2, 0])
        #expect(bound.classes == 4)
        #expect(abs(bound.labelEntropy - (-2 * 0.25 * Foundation.log(0.25) - 0.5 * Foundation.log(0.5))) < 1e-15)
    }

    @Test func boundRefusesBadInput() {
        #expect(throws: ProbeError.tooFewClasses(1)) { try InformationBound(classes: 1, labelEntropy: 0) }
        #expect(throws: ProbeError.tooFewClasses(1)) { try InformationBound(classCounts: [4]) }
        #expect(throws: ProbeError.noExamples("the class counts")) { try InformationBound(classCounts: [0, 0]) }
        #expect(throws: ProbeError.labelEntropyOutOfRange(entropy: 1, classes: 2)) { try InformationBound(classes: 2, labelEntropy: 1) }
        #expect(throws: ProbeError.self) { try InformationBound(classes: 3, labelEntropy: 1).minimumInformation(accuracy: 1.5) }
    }

    // MARK: Split

    @Test func splitMix64MatchesTheReferenceStream() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func splitIsADeterministicPartition() throws {
        let split = try ProbeSplit(count: 103, seed: 7)
        #expect(split.heldOut.count == 20)
        #expect(split.fitting.count == 83)
        #expect((split.fitting + split.heldOut).sorted() == Array(0..<103))
        #expect(try ProbeSplit(count: 103, seed: 7) == split)
        #expect(try ProbeSplit(count: 103, seed: 8) != split)
        #expect(split.fitting != Array(0..<83), "not shuffled")
        let tenth = try ProbeSplit(count: 10_000, heldOutFraction: 0.1)
        #expect(tenth.heldOut.count == 1000 && tenth.seed == 42)
        #expect(Set(tenth.fitting).isDisjoint(with: tenth.heldOut))
        #expect(try ProbeSplit(count: 0).fitting.isEmpty)
        #expect(try ProbeSplit(count: 1).fitting == [0])
        #expect(throws: ProbeError.self) { try ProbeSplit(count: 10, heldOutFraction: 1) }
        #expect(throws: ProbeError.self) { try ProbeSplit(count: 10, heldOutFraction: 0) }
        #expect(throws: ProbeError.self) { try ProbeSplit(count: -1) }
    }

    /// Fisher–Yates draws every permutation equally often (an off-by-one, Sattolo's
    /// algorithm, draws only the cyclic ones).
    @Test func shuffleIsUniform() throws {
        var seen: [[Int]: Int] = [:]
        for seed in 0..<6000 { seen[try ProbeSplit(count: 3, heldOutFraction: 0.5, seed: UInt64(seed)).fitting.prefix(2).map { $0 }, default: 0] += 1 }
        #expect(seen.count == 6, "\(seen)")
        #expect(seen.values.allSatisfy { abs($0 - 1000) < 150 }, "\(seen)")
    }

    @Test func splitParts() throws {
        let data = try LabelledFeatures(features: (0..<10).map(Float.init), labels: [0, 1, 0, 1, 0], dimension: 2, classes: 2)
        let split = try ProbeSplit(count: 5, heldOutFraction: 0.4, seed: 3)
        let (fitting, heldOut) = try split.parts(of: data)
        #expect(fitting.count == 3 && heldOut.count == 2)
        for (part, indices) in [(fitting, split.fitting), (heldOut, split.heldOut)] {
            #expect(part.labels == indices.map { data.labels[$0] })
            #expect(part.features == indices.flatMap { [Float(2 * $0), Float(2 * $0 + 1)] })
        }
        #expect(throws: ProbeError.self) { try ProbeSplit(count: 6).parts(of: data) }
    }

    @Test func labelledFeaturesRefuseBadInput() {
        #expect(throws: ProbeError.sizeMismatch("the features of 2 examples of dimension 2", expected: 4, found: 3)) {
            try LabelledFeatures(features: [1, 2, 3], labels: [0, 1], dimension: 2, classes: 2)
        }
        #expect(throws: ProbeError.labelOutOfRange(label: 2, index: 1, classes: 2)) {
            try LabelledFeatures(features: [1, 2], labels: [0, 2], dimension: 1, classes: 2)
        }
        #expect(throws: ProbeError.nonFiniteValue("the features", index: 1)) {
            try LabelledFeatures(features: [1, .nan], labels: [0, 1], dimension: 1, classes: 2)
        }
        #expect(throws: ProbeError.tooFewClasses(1)) { try LabelledFeatures(features: [1], labels: [0], dimension: 1, classes: 1) }
    }

    // MARK: Logistic probe

    @Test(arguments: AvailableBackends.all)
    func logisticProbeSeparatesBlobs(_ target: BackendUnderTest) throws {
        let data = try Self.blobs(classes: 3, perClass: 100, dimension: 4, separation: 4, seed: 11)
        let (fitting, heldOut) = try ProbeSplit(count: data.count, seed: 1).parts(of: data)
        let model = try LinearProbe().fit(fitting, on: target.backend)
        let accuracy = try model.accuracy(on: heldOut)
        #expect(accuracy > 0.9, "held-out accuracy \(accuracy) on \(target.backend.displayName)")
        #expect(try model.accuracy(features: fitting.features, labels: fitting.labels) > 0.9)
        #expect(model.objective < 0.3 && model.objective > 0, "objective \(model.objective)")
    }

    @Test(arguments: AvailableBackends.all)
    func logisticProbeOnNoiseStaysNearChance(_ target: BackendUnderTest) throws {
        var random = TestData(seed: 12)
        let n = 600, d = 8
        let features = (0..<n * d).map { _ in Float(Self.normal(&random)) }
        let labels = (0..<n).map { _ in min(Int(random.next() * 3), 2) }
        let data = try LabelledFeatures(features: features, labels: labels, dimension: d, classes: 3)
        let (fitting, heldOut) = try ProbeSplit(count: n, heldOutFraction: 0.5, seed: 2).parts(of: data)
        let accuracy = try LinearProbe().fit(fitting, on: target.backend).accuracy(on: heldOut)
        // 300 held-out examples: chance ± 3 standard errors (0.027 each).
        #expect(abs(accuracy - 1 / 3.0) < 0.09, "held-out accuracy \(accuracy) on pure noise")
    }

    /// The objective on the graph equals J(W, b) computed in Double on the host, and its
    /// gradients equal central differences of that J.
    @Test(arguments: AvailableBackends.all)
    func objectiveAndGradientsMatchAHostComputation(_ target: BackendUnderTest) throws {
        let b = target.backend
        let (n, d, m) = (5, 3, 4)
        var random = TestData(seed: 13)
        let x = random.values(n * d, in: -2...2), w0 = random.values(d * m), b0 = random.values(m)
        let labels = [0, 3, 1, 1, 2]
        let penalty: Float = 0.3

        func hostObjective(_ w: [Double], _ bias: [Double]) -> Double {
            var total = 0.0
            for i in 0..<n {
                let logits = (0..<m).map { c in bias[c] + (0..<d).reduce(0.0) { $0 + Double(x[i * d + $1]) * w[$1 * m + c] } }
                let peak = logits.max()!
                total += peak + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp($1 - peak) }) - logits[labels[i]]
            }
            return total / Double(n) + Double(penalty) * w.reduce(0.0) { $0 + $1 * $1 }
        }

        let weight = Parameter(name: "w", tensor: Tensor(shape: [d, m], buffer: try b.makeBuffer(w0), requiresGradient: true))
        let bias = Parameter(name: "b", tensor: Tensor(shape: [m], buffer: try b.makeBuffer(b0), requiresGradient: true))
        let graph = Graph(backend: b)
        var oneHot = [Float](repeating: 0, count: n * m)
        for (i, label) in labels.enumerated() { oneHot[i * m + label] = 1 }
        let loss = try LinearProbe.objective(features: try graph.constant(x, shape: [n, d]), oneHotLabels: try graph.constant(oneHot, shape: [n, m]),
            weight: weight.tensor, bias: bias.tensor, penalty: penalty, in: graph)
        try graph.backward(from: loss)

        let w = w0.map(Double.init), bb = b0.map(Double.init)
        let value = Double(try graph.values(loss)[0])
        #expect(abs(value - hostObjective(w, bb)) < 1e-5 * max(1, abs(value)), "J = \(value), host \(hostObjective(w, bb))")

        let h = 1e-5
        let gw = try b.download(try #require(graph.gradient(of: weight.tensor)))
        for i in 0..<d * m {
            var plus = w, minus = w
            plus[i] += h
            minus[i] -= h
            let numeric = (hostObjective(plus, bb) - hostObjective(minus, bb)) / (2 * h)
            #expect(abs(Double(gw[i]) - numeric) < 1e-4, "∂J/∂W[\(i)]: \(gw[i]) vs \(numeric)")
        }
        let gb = try b.download(try #require(graph.gradient(of: bias.tensor)))
        for c in 0..<m {
            var plus = bb, minus = bb
            plus[c] += h
            minus[c] -= h
            let numeric = (hostObjective(w, plus) - hostObjective(w, minus)) / (2 * h)
            #expect(abs(Double(gb[c]) - numeric) < 1e-4, "∂J/∂b[\(c)]: \(gb[c]) vs \(numeric)")
        }
    }

    @Test func logisticProbeRefusesBadInput() throws {
        let b = AvailableBackends.cpu.backend
        let empty = try LabelledFeatures(features: [], labels: [], dimension: 2, classes: 3)
        #expect(throws: ProbeError.noExamples("the logistic probe's fitting set")) { try LinearProbe().fit(empty, on: b) }
        #expect(throws: ProbeError.self) { try LinearProbe(steps: -1).fit(empty, on: b) }
        #expect(throws: ProbeError.self) { try LinearProbe(inverseRegularization: 0).fit(empty, on: b) }
        let data = try Self.blobs(classes: 3, perClass: 4, dimension: 2, separation: 3, seed: 1)
        let model = try LinearProbe(steps: 5).fit(data, on: b)
        let other = try LabelledFeatures(features: [1, 2, 3], labels: [0], dimension: 3, classes: 3)
        #expect(throws: ProbeError.self) { try model.accuracy(on: other) }
        #expect(throws: ProbeError.self) { try model.accuracy(on: empty) }
    }

    /// A constant feature (σ = 0) is standardised to zero, not to NaN.
    @Test func constantFeaturesStandardiseToZero() throws {
        let data = try LabelledFeatures(features: [3, 1, 3, 2, 3, 4], labels: [0, 1, 0], dimension: 2, classes: 2)
        let scaling = try FeatureScaling(fitting: data)
        #expect(scaling.scale[0] == Float(FeatureScaling.minimumScale))
        let scaled = try scaling.apply(data.features)
        #expect(scaled[0] == 0 && scaled[2] == 0 && scaled[4] == 0)
        #expect(abs(scaled[1] + scaled[3] + scaled[5]) < 1e-6)
        let model = try LinearProbe(steps: 50).fit(data, on: AvailableBackends.cpu.backend)
        #expect(model.weights.allSatisfy(\.isFinite) && model.objective.isFinite)
    }

    // MARK: Nearest neighbours

    /// Brute force in Double: indices by (distance, index), then the vote (most votes; ties to
    /// the tied class met first in the nearest-first list).
    static func bruteForce(_ references: LabelledFeatures, _ queries: [Float], k: Int) -> (neighbours: [[Int]], labels: [Int]) {
        let d = references.dimension
        var neighbours: [[Int]] = [], labels: [Int] = []
        for q in 0..<queries.count / d {
            let distances = (0..<references.count).map { r in
                (0..<d).reduce(0.0) { sum, j in
                    let difference = Double(queries[q * d + j]) - Double(references.features[r * d + j])
                    return sum + difference * difference
                }
            }
            let order = Array((0..<references.count).sorted { (distances[$0], $0) < (distances[$1], $1) }.prefix(k))
            neighbours.append(order)
            var votes: [Int: Int] = [:]
            for index in order { votes[references.labels[index], default: 0] += 1 }
            let top = votes.values.max()!
            labels.append(references.labels[order.first { votes[references.labels[$0]] == top }!])
        }
        return (neighbours, labels)
    }

    @Test(arguments: AvailableBackends.all)
    func nearestNeighboursMatchBruteForce(_ target: BackendUnderTest) throws {
        var random = TestData(seed: 21)
        let (r, q, d) = (60, 25, 5)
        let references = try LabelledFeatures(features: random.values(r * d), labels: (0..<r).map { _ in min(Int(random.next() * 3), 2) },
            dimension: d, classes: 3)
        let queries = random.values(q * d)
        let expected = Self.bruteForce(references, queries, k: 5)
        // 7 queries per block: four blocks, the last one short.
        let knn = try NearestNeighbours(references: references, blockElements: 7 * r, on: target.backend)
        #expect(try knn.neighbours(of: queries) == expected.neighbours)
        #expect(try knn.predict(queries) == expected.labels)
        let whole = try NearestNeighbours(references: references, on: target.backend)
        #expect(try whole.predict(queries) == expected.labels)
    }

    /// Integer coordinates make the distances exact in Float, so equal distances are real
    /// ties: duplicated references, and 2–2 votes with k = 4.
    @Test(arguments: AvailableBackends.all)
    func nearestNeighbourTies(_ target: BackendUnderTest) throws {
        var random = TestData(seed: 22)
        let (r, q, d) = (40, 30, 3)
        var coordinates = (0..<r * d).map { _ in Float(Int(random.next() * 4)) }
        for j in 0..<d { coordinates[5 * d + j] = coordinates[2 * d + j] }  // reference 5 duplicates reference 2
        let references = try LabelledFeatures(features: coordinates, labels: (0..<r).map { _ in min(Int(random.next() * 3), 2) },
            dimension: d, classes: 3)
        let queries = (0..<q * d).map { _ in Float(Int(random.next() * 4)) }
        for k in [1, 4, 5] {
            let expected = Self.bruteForce(references, queries, k: k)
            let knn = try NearestNeighbours(references: references, k: k, blockElements: 11 * r, on: target.backend)
            #expect(try knn.neighbours(of: queries) == expected.neighbours, "k = \(k)")
            #expect(try knn.predict(queries) == expected.labels, "k = \(k)")
        }
    }

    @Test func voteBreaksTiesByTheNearest() {
        #expect(NearestNeighbours.vote([2, 1, 1, 2, 0], classes: 3) == 2)
        #expect(NearestNeighbours.vote([0, 1, 2, 1], classes: 3) == 1)
        #expect(NearestNeighbours.vote([1, 0, 0, 1], classes: 2) == 1)
        #expect(NearestNeighbours.vote([0, 1, 2], classes: 3) == 0)
    }

    @Test func nearestNeighboursRefuseBadInput() throws {
        let b = AvailableBackends.cpu.backend
        let references = try LabelledFeatures(features: [0, 1, 2, 3], labels: [0, 1, 0, 1], dimension: 1, classes: 2)
        #expect(throws: ProbeError.tooFewReferences(k: 5, references: 4)) { try NearestNeighbours(references: references, on: b) }
        #expect(throws: ProbeError.self) { try NearestNeighbours(references: references, k: 0, on: b) }
        let knn = try NearestNeighbours(references: references, k: 3, on: b)
        #expect(throws: ProbeError.self) { try knn.accuracy(features: [1, 2], labels: [0]) }
        #expect(throws: ProbeError.self) { try knn.neighbours(of: [.nan]) }
        #expect(try knn.accuracy(features: [0.1, 2.9], labels: [0, 1]) == 1)
    }

    // MARK: PSNR

    @Test func psnrOverAllPixels() throws {
        var psnr = try PSNRAccumulator()
        try psnr.add(reconstructions: [0.5, 0.5], targets: [0, 1])
        try psnr.add(reconstructions: [1, 0, 0.1], targets: [1, 0, 0.2])
        // Σ(x̂ − x)² = 0.25 + 0.25 + 0.01 = 0.51 over 5 pixels: 10·log10(5 / 0.51) = 9.91400 dB,
        // not the mean of the two batches' PSNRs (3.01 and 14.77 dB).
        #expect(psnr.count == 5)
        #expect(abs(try psnr.meanSquaredError() - 0.102) < 1e-8)
        #expect(abs(try psnr.decibels() - 9.913_998) < 1e-5)
        var ranged = try PSNRAccumulator(dataRange: 255)
        try ranged.add(reconstructions: [0, 255], targets: [255, 255])
        #expect(abs(try ranged.decibels() - 10 * Foundation.log10(2)) < 1e-12)
    }

    @Test func psnrOfPerfectReconstructionsIsInfinite() throws {
        var psnr = try PSNRAccumulator()
        #expect(throws: ProbeError.nothingAccumulated("the PSNR")) { try psnr.decibels() }
        try psnr.add(reconstructions: [0.25, 1], targets: [0.25, 1])
        #expect(try psnr.decibels() == .infinity)
        #expect(throws: ProbeError.self) { try psnr.add(reconstructions: [1], targets: [1, 2]) }
        #expect(throws: ProbeError.self) { try psnr.add(reconstructions: [.nan], targets: [1]) }
        #expect(throws: ProbeError.self) { try PSNRAccumulator(dataRange: 0) }
    }

    @Test(arguments: AvailableBackends.all)
    func psnrOnTheDeviceMatchesTheHost(_ target: BackendUnderTest) throws {
        let b = target.backend
        var random = TestData(seed: 31)
        var host = try PSNRAccumulator(), device = try PSNRAccumulator()
        for size in [784, 3 * 784, 1] {
            let x = random.values(size, in: 0...1), y = random.values(size, in: 0...1)
            try host.add(reconstructions: x, targets: y)
            try device.add(reconstructions: try b.makeBuffer(x), targets: try b.makeBuffer(y), on: b)
        }
        #expect(device.count == host.count)
        let (onDevice, onHost) = (try device.decibels(), try host.decibels())
        #expect(abs(onDevice - onHost) < 1e-4, "\(onDevice) vs \(onHost)")
    }

    // MARK: Report

    @Test func reportIsJSONWithSnakeCaseKeys() throws {
        let layer = LayerProbeReport(layer: "z1", dimension: 16, logisticAccuracy: 0.9, nearestNeighbourAccuracy: 0.85, rateNats: 2.5,
            boundAccuracy: 0.95, chanceAccuracy: 0.11)
        let report = ProbeReport(psnrDecibels: .infinity, classes: 10, fittingExamples: 8000, heldOutExamples: 2000, splitSeed: 42,
            layers: [layer])
        #expect(report.psnrDecibels == nil)
        let json = String(decoding: try JSONEncoder.rdlab(pretty: false).encode(report), as: UTF8.self)
        for key in ["\"nearest_neighbour_accuracy\":0.85", "\"bound_accuracy\":0.95", "\"held_out_examples\":2000", "\"split_seed\":42"] {
            #expect(json.contains(key), "\(json)")
        }
        #expect(try JSONDecoder.rdlab.decode(ProbeReport.self, from: Data(json.utf8)) == report)
    }

    /// All the probes of one layer: well-separated blobs are classified, and a rate above H(Y)
    /// allows accuracy 1.
    @Test func measuringALayer() throws {
        let data = try Self.blobs(classes: 3, perClass: 40, dimension: 3, separation: 5, seed: 41)
        let split = try ProbeSplit(count: data.count, seed: 5)
        let report = try LayerProbeReport.measure(layer: "z", data: data, rateNats: 10, split: split, on: AvailableBackends.cpu.backend)
        #expect(report.dimension == 3 && report.layer == "z")
        #expect(report.logisticAccuracy > 0.9 && report.nearestNeighbourAccuracy > 0.9, "\(report)")
        #expect(report.boundAccuracy == 1)
        #expect(report.chanceAccuracy >= 1 / 3.0 && report.chanceAccuracy < 0.6)
        let starved = try LayerProbeReport.measure(layer: "z", data: data, rateNats: 0.1, split: split, on: AvailableBackends.cpu.backend)
        #expect(starved.boundAccuracy < 0.6 && starved.boundAccuracy > 1 / 3.0, "\(starved.boundAccuracy)")
    }
}
