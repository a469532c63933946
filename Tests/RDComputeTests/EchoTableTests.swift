import RDCompute
import Testing

@Suite("Echo index tables and clip factor")
struct EchoTableTests {
    @Test func withoutReplacementRowsArePermutationsOfTheOthers() throws {
        let table = try EchoIndexTable.random(batch: 10, terms: 9, sampling: .withoutReplacement, seed: 4, stream: 9)
        for i in 0..<10 {
            let row = table.indices[(i * 9)..<((i + 1) * 9)].map(Int.init)
            #expect(Set(row) == Set((0..<10).filter { $0 != i }), "row \(i): \(row)")
        }
        // rows are fresh shuffles, not one fixed order
        #expect(Set((0..<10).map { table.indices[$0 * 9 + 5] }).count > 3)
    }

    @Test func truncatedRowsAndReplacement() throws {
        let short = try EchoIndexTable.random(batch: 50, terms: 7, sampling: .withoutReplacement, seed: 1, stream: 2)
        for i in 0..<50 {
            let row = short.indices[(i * 7)..<((i + 1) * 7)].map(Int.init)
            #expect(Set(row).count == 7 && !row.contains(i))
        }
        let with = try EchoIndexTable.random(batch: 5, terms: 400, sampling: .withReplacement, seed: 1, stream: 2)
        let counts = (0..<5).map { k in with.indices.filter { $0 == k }.count }
        #expect(counts.allSatisfy { $0 > 300 && $0 < 500 }, "uniform over all 5 members, self included: \(counts)")
    }

    @Test func sameSeedSameTableOtherStreamOtherTable() throws {
        let a = try EchoIndexTable.random(batch: 20, terms: 19, sampling: .withoutReplacement, seed: 3, stream: 1)
        #expect(a == (try EchoIndexTable.random(batch: 20, terms: 19, sampling: .withoutReplacement, seed: 3, stream: 1)))
        #expect(a != (try EchoIndexTable.random(batch: 20, terms: 19, sampling: .withoutReplacement, seed: 3, stream: 2)))
    }

    @Test func tooManyTermsWithoutReplacementIsAnError() {
        #expect(throws: ComputeError.self) {
            try EchoIndexTable.random(batch: 10, terms: 10, sampling: .withoutReplacement, seed: 0, stream: 0)
        }
    }

    @Test func inverseListsPointBackAtEveryOccurrence() throws {
        let table = try EchoIndexTable.random(batch: 6, terms: 8, sampling: .withReplacement, seed: 5, stream: 5)
        let words = table.words
        let (b, d) = (6, 8)
        #expect(words.count == EchoShape(batch: b, dimensions: 1, terms: d).indexWords)
        let start = Array(words[(b * d)..<(b * d + b + 1)]), entries = Array(words[(b * d + b + 1)...])
        #expect(start.first == 0 && start.last == Int32(b * d))
        for k in 0..<b {
            let positions = entries[Int(start[k])..<Int(start[k + 1])]
            #expect(positions.allSatisfy { table.indices[Int($0)] == Int32(k) })
            #expect(positions.elementsEqual(positions.sorted()))
        }
    }

    /// seed-spec §2.2's constants.
    @Test func clipFactorsAndTheRateFloor() {
        #expect(abs(EchoClip.factor(bound: 1, terms: 99) - 0.835866) < 5e-7)
        #expect(abs(EchoClip.factor(bound: 10, terms: 99) - 0.817523) < 5e-7)
        #expect(abs(EchoClip.factor(terms: 100) - 0.83729) < 5e-6)
        for (terms, r) in [(32, 0.59089), (64, 0.76220), (128, 0.86899), (256, 0.92992)] {
            #expect(abs(EchoClip.factor(terms: terms) - r) < 5e-6, "d = \(terms)")
        }
        #expect(abs(EchoClip.rateFloor(dimensions: 32, factor: EchoClip.factor(terms: 99)) - 5.737) < 5e-4)
    }
}
