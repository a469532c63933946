import Crypto
import Foundation
import RDCompute
import RDFiles
import RDTestSupport
import Testing

@testable import RDData

/// Downloads through `RDLAB_DATASET_MIRROR` pointed at a local folder (no network needed). The
/// mirror holds fixture files, so the catalogue is one that lists their sums.
@Suite("Dataset downloads", .serialized)
struct DownloadTests {
    static let fixtures = URL(fileURLWithPath: TestDatasets.fixtures)

    static func sha256(_ url: URL) throws -> String { SHA256.hash(data: try Data(contentsOf: url)).hex }

    /// The fixtures' MNIST test split as a catalogue entry.
    static func fixtureMNIST() throws -> DatasetCatalog.Entry {
        let images = fixtures.appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz")
        let labels = fixtures.appendingPathComponent("mnist/t10k-labels-idx1-ubyte.gz")
        return DatasetCatalog.Entry(name: "mnist", isPackedBinary: false, splits: [("test", DatasetCatalog.SplitFiles(
            images: DatasetCatalog.File(name: images.lastPathComponent, sha256: try sha256(images)),
            labels: DatasetCatalog.File(name: labels.lastPathComponent, sha256: try sha256(labels))))])
    }

    @Test func missingFilesAreFetchedVerifiedAndCached() throws {
        let mirror = try TestDatasets.temporaryDirectory(), home = try TestDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        for file in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("mnist/\(file)"), to: mirror.appendingPathComponent(file))
        }
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path],
            catalog: [try Self.fixtureMNIST()])
        let test = try locator.load("mnist", split: "test")
        #expect(test.count == 100)
        #expect(test.files.allSatisfy { $0.hasPrefix(home.appendingPathComponent(".cache/rdlab/datasets/mnist").path) })
    }

    @Test func aCorruptDownloadIsRefusedAndNotSaved() throws {
        let mirror = try TestDatasets.temporaryDirectory(), home = try TestDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        try Data([1, 2, 3]).write(to: mirror.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path],
            catalog: [try Self.fixtureMNIST()])
        do {
            _ = try locator.load("mnist", split: "test")
            Issue.record("a corrupt file was accepted")
        } catch let error as DataError {
            #expect(error.description.contains("SHA-256") && error.description.contains("not saved"))
            #expect(error.description.contains("t10k-images-idx3-ubyte.gz"))
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(".cache/rdlab/datasets/mnist/t10k-images-idx3-ubyte.gz").path))
        let offline = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_OFFLINE": "1"])
        #expect(throws: DataError.self) { try offline.load("mnist", split: "test") }
    }

    /// Packed rows → the original `.amat` text (784 space-separated 0/1 per line).
    static func amat(_ packed: [UInt8]) -> [UInt8] {
        var text = [UInt8]()
        text.reserveCapacity(packed.count / 98 * 1568)
        for r in 0..<(packed.count / 98) {
            for j in 0..<784 {
                if j > 0 { text.append(UInt8(ascii: " ")) }
                text.append((packed[r * 98 + j / 8] >> (7 - UInt8(j % 8))) & 1 == 1 ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            }
            text.append(UInt8(ascii: "\n"))
        }
        return text
    }

    /// A binarized split arrives as `.amat` text, is checked against the text's sum and packed
    /// back to the same bytes.
    @Test func binarizedSplitsArriveAsAmatText() throws {
        let packedURL = Self.fixtures.appendingPathComponent("binarized-mnist/binarized_mnist_test.bin")
        let packed = try [UInt8](Data(contentsOf: packedURL))
        let text = Self.amat(packed)
        let entry = DatasetCatalog.Entry(name: "binarized-mnist", isPackedBinary: true, splits: [("test", DatasetCatalog.SplitFiles(
            images: DatasetCatalog.File(name: "binarized_mnist_test.bin", sha256: try Self.sha256(packedURL),
                amatSHA256: SHA256.hash(data: text).hex), labels: nil))])
        let mirror = try TestDatasets.temporaryDirectory(), home = try TestDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        try Data(text).write(to: mirror.appendingPathComponent("binarized_mnist_test.amat"))
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path],
            catalog: [entry])
        let test = try locator.load("binarized-mnist", split: "test")
        #expect(test.count == 200)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: test.files[0]))) == packed)
        #expect(throws: DataError.self) { try DatasetDownloader.pack(amat: Array("0 1\n".utf8), file: "x.amat") }
    }

    /// The catalogue's `.amat` sum is the published one: the full test split, rebuilt as text,
    /// hashes to it.
    @Test(.enabled(if: TestDatasets.shared != nil, "needs ../shared/datasets"))
    func catalogueHoldsThePublishedAmatSum() throws {
        let shared = try #require(TestDatasets.shared)
        print("binarized-mnist test: full file from ../shared/datasets (\(shared))")
        let packed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: shared).appendingPathComponent("binarized-mnist/binarized_mnist_test.bin")))
        let file = try DatasetCatalog.entry("binarized-mnist").files(for: "test").images
        #expect(SHA256.hash(data: Self.amat(packed)).hex == file.amatSHA256)
    }
}
