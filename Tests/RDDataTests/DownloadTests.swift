import Foundation
import RDCompute
import Testing

@testable import RDData

/// Downloads through `RDLAB_DATASET_MIRROR` pointed at a local folder (no network needed).
@Suite("Dataset downloads", .serialized)
struct DownloadTests {
    static let shared = URL(fileURLWithPath: SharedDatasets.directory)

    @Test func missingFilesAreFetchedVerifiedAndCached() throws {
        let mirror = try SharedDatasets.temporaryDirectory(), home = try SharedDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        for file in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(at: Self.shared.appendingPathComponent("mnist/\(file)"), to: mirror.appendingPathComponent(file))
        }
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path])
        let test = try locator.load("mnist", split: "test")
        #expect(test.count == 10_000)
        #expect(test.files.allSatisfy { $0.hasPrefix(home.appendingPathComponent(".cache/rdlab/datasets/mnist").path) })
    }

    @Test func aCorruptDownloadIsRefusedAndNotSaved() throws {
        let mirror = try SharedDatasets.temporaryDirectory(), home = try SharedDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        try Data([1, 2, 3]).write(to: mirror.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path])
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

    /// The original `.amat` text, rebuilt from the packed test split, hashes to the published
    /// sum and packs back to the same bytes.
    @Test func binarizedSplitsArriveAsAmatText() throws {
        let packed = try Data(contentsOf: Self.shared.appendingPathComponent("binarized-mnist/binarized_mnist_test.bin"))
        var text = [UInt8]()
        text.reserveCapacity(10_000 * 1568)
        for r in 0..<10_000 {
            for j in 0..<784 {
                if j > 0 { text.append(UInt8(ascii: " ")) }
                text.append((packed[r * 98 + j / 8] >> (7 - UInt8(j % 8))) & 1 == 1 ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            }
            text.append(UInt8(ascii: "\n"))
        }
        #expect(SHA256.hex(text) == DatasetDownloader.amatSHA256["binarized_mnist_test.bin"])
        let mirror = try SharedDatasets.temporaryDirectory(), home = try SharedDatasets.temporaryDirectory()
        defer { for d in [mirror, home] { try? FileManager.default.removeItem(at: d) } }
        try Data(text).write(to: mirror.appendingPathComponent("binarized_mnist_test.amat"))
        let locator = DataLocator(dataDirectory: nil, environment: ["HOME": home.path, "RDLAB_DATASET_MIRROR": mirror.path])
        let test = try locator.load("binarized-mnist", split: "test")
        #expect(test.count == 10_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: test.files[0])) == packed)
        #expect(throws: DataError.self) { try DatasetDownloader.pack(amat: Array("0 1\n".utf8), file: "x.amat") }
    }
}
