import RDLab
import Testing

/// `lower:upper` ranges of AR(1) coefficients, as `--alpha` reads them.
@Suite("α ranges")
struct AlphaRangeTests {
    @Test func parsesRangesAndSingleValues() throws {
        let range = try AlphaRange(parsing: "0.5:0.95")
        #expect(range.lower == 0.5 && range.upper == 0.95)
        #expect(range.description == "0.5:0.95")
        let single = try AlphaRange(parsing: " 0.7 ")
        #expect(single.lower == 0.7 && single.upper == 0.7 && single.description == "0.7")
        #expect(try AlphaRange(parsing: "-0.9:-0.1") == AlphaRange(lower: -0.9, upper: -0.1))
        #expect(single.prior(dimensions: 3).alphas == [0.7, 0.7, 0.7])
        #expect(range.prior(dimensions: 8) == AR1Prior.linearlySpaced(from: 0.5, to: 0.95, count: 8))
    }

    @Test(arguments: ["1", "1.2", "-1", "0.5:1", "nan", "0.9:0.5", "abc", "0.1:0.2:0.3", "", ":0.5", "0.5:"])
    func rejects(_ text: String) {
        #expect(throws: AlphaRange.Invalid.self) { try AlphaRange(parsing: text) }
    }

    @Test func messagesSayWhy() {
        func message(_ text: String) -> String {
            do {
                _ = try AlphaRange(parsing: text)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("0.5:1").contains("strictly between −1 and 1"))
        #expect(message("0.9:0.5").contains("above its upper end"))
        #expect(message("x").contains("not an α or a range"))
    }
}
