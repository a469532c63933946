import Foundation
import RDTestSupport
import Testing

@testable import RDData

/// The full files: sizes, statistics and layout from `shared/datasets/README.md`. They run on
/// `../shared/datasets` when it is beside the checkout (CI), Fashion-MNIST also on Debian's
/// `dataset-fashion-mnist`; each test prints which files it read.
@Suite("Full dataset files", .serialized)
struct DatasetLoadingTests {
    @Test(.enabled(if: TestDatasets.full("binarized-mnist") != nil, "needs ../shared/datasets"),
        arguments: [("train", 50_000, 0.130562), ("valid", 10_000, 0.131127), ("test", 10_000, 0.132512)])
    func binarizedMNIST(split: String, count: Int, mean: Double) throws {
        let (directory, source) = try #require(TestDatasets.full("binarized-mnist"))
        print("binarized-mnist \(split): full files from \(source)")
        let data = try DataLocator(dataDirectory: directory).load("binarized-mnist", split: split)
        #expect(data.count == count && data.isBinary && data.labels == nil)
        #expect(data.bytes.count == count * 784 && data.maximum == 1)
        #expect(data.bytes.allSatisfy { $0 <= 1 })
        let measured = data.bytes.reduce(0.0) { $0 + Double($1) } / Double(data.bytes.count)
        #expect(abs(measured - mean) < 5e-7, "mean pixel \(measured), README says \(mean)")
        // MSB-first unpacking: ink rises smoothly from the empty left border towards the centre.
        // (LSB-first would swap columns within each group of 8 and break the ramp.)
        var columns = [Double](repeating: 0, count: 28)
        for i in 0..<count { for p in 0..<784 { columns[p % 28] += Double(data.bytes[i * 784 + p]) } }
        #expect(columns[0] < columns[4] && columns[4] < columns[6] && columns[6] < columns[8])
        #expect(columns[27] < columns[23] && columns[23] < columns[19])
    }

    @Test(arguments: [
        ("mnist", "train", [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], 0.130660),
        ("mnist", "test", [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], 0.132515),
        ("fashion-mnist", "train", [Int](repeating: 6000, count: 10), 0.286041),
        ("fashion-mnist", "test", [Int](repeating: 1000, count: 10), 0.286849),
    ])
    func idxDatasets(name: String, split: String, labelCounts: [Int], mean: Double) throws {
        guard let (directory, source) = TestDatasets.full(name) else {
            print("\(name) \(split): full files not checked (no ../shared/datasets\(name == "fashion-mnist" ? " and no Debian dataset-fashion-mnist" : ""))")
            return
        }
        print("\(name) \(split): full files from \(source)")
        let data = try DataLocator(dataDirectory: directory).load(name, split: split)
        #expect(data.count == labelCounts.reduce(0, +) && !data.isBinary)
        #expect(data.height == 28 && data.width == 28)
        var counts = [Int](repeating: 0, count: 10)
        for label in try #require(data.labels) { counts[Int(label)] += 1 }
        #expect(counts == labelCounts)
        #expect(data.maximum == 255 && data.bytes.min() == 0 && data.bytes.max() == 255)
        let measured = data.bytes.reduce(0.0) { $0 + Double($1) } / Double(data.bytes.count) / 255
        #expect(abs(measured - mean) < 5e-7, "mean pixel \(measured)")
        #expect(data.image(3).allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(data.prefix(7).count == 7 && data.prefix(7).bytes == Array(data.bytes[0..<(7 * 784)]))
    }
}

/// The committed fixtures (`Tests/Fixtures/datasets`): what `make_fixtures.py` wrote, read through
/// the same loaders as the full files.
@Suite("Dataset fixtures")
struct DatasetFixtureTests {
    let locator = DataLocator(dataDirectory: TestDatasets.fixtures, environment: ["HOME": "/nonexistent", "RDLAB_OFFLINE": "1"])

    @Test(arguments: [("train", 500, 0.128855), ("valid", 100, 0.130944), ("test", 200, 0.153782)])
    func binarized(split: String, count: Int, mean: Double) throws {
        let data = try locator.load("binarized-mnist", split: split)
        #expect(data.count == count && data.isBinary && data.bytes.allSatisfy { $0 <= 1 })
        let measured = data.bytes.reduce(0.0) { $0 + Double($1) } / Double(data.bytes.count)
        #expect(abs(measured - mean) < 5e-7, "mean pixel \(measured), fixtures README says \(mean)")
        // Bit order: pixel j of row r is bit 7 − j % 8 of byte 98·r + j / 8 (MSB first).
        let packed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: data.files[0])))
        for (r, j) in [(0, 0), (0, 7), (3, 200), (count - 1, 783), (17, 405)] {
            #expect(data.bytes[r * 784 + j] == (packed[r * 98 + j / 8] >> (7 - UInt8(j % 8))) & 1)
        }
    }

    @Test(arguments: [
        ("mnist", "train", [21, 26, 20, 21, 21, 13, 19, 21, 15, 23], 0.126804),
        ("mnist", "test", [8, 14, 8, 11, 14, 7, 10, 15, 2, 11], 0.119883),
        ("fashion-mnist", "train", [24, 26, 18, 17, 18, 20, 21, 21, 16, 19], 0.285341),
        ("fashion-mnist", "test", [8, 13, 14, 9, 10, 9, 8, 11, 12, 6], 0.292826),
    ])
    func idx(name: String, split: String, labelCounts: [Int], mean: Double) throws {
        let data = try locator.load(name, split: split)
        #expect(data.count == labelCounts.reduce(0, +) && data.height == 28 && data.width == 28 && data.maximum == 255)
        var counts = [Int](repeating: 0, count: 10)
        for label in try #require(data.labels) { counts[Int(label)] += 1 }
        #expect(counts == labelCounts)
        let measured = data.bytes.reduce(0.0) { $0 + Double($1) } / Double(data.bytes.count) / 255
        #expect(abs(measured - mean) < 5e-7, "mean pixel \(measured), fixtures README says \(mean)")
    }
}

@Suite("Dataset errors and search order")
struct DatasetErrorTests {
    @Test func missingFilesNameWhatAndWhere() throws {
        let empty = try HandMadeIDX.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let locator = DataLocator(dataDirectory: empty.path, environment: ["HOME": empty.path, "RDLAB_OFFLINE": "1"])
        do {
            _ = try locator.load("mnist", split: "train")
            Issue.record("loaded from an empty folder")
        } catch let error as DataError {
            let text = error.description
            #expect(text.contains("train-images-idx3-ubyte.gz") && text.contains("train-labels-idx1-ubyte.gz"))
            #expect(text.contains(empty.appendingPathComponent("mnist").path))
            #expect(text.contains("/.cache/rdlab/datasets/mnist") && text.contains("/usr/share/datasets/mnist"))
            #expect(text.contains("--data-dir"))
        }
        #expect(throws: DataError.unknownDataset(name: "cifar", valid: DatasetCatalog.names)) {
            try locator.load("cifar", split: "train")
        }
        #expect(throws: DataError.self) { try locator.load("mnist", split: "valid") }
    }

    @Test func searchOrderPrefersTheFlagThenTheEnvironment() throws {
        let flag = try HandMadeIDX.temporaryDirectory(), env = try HandMadeIDX.temporaryDirectory()
        defer { for d in [flag, env] { try? FileManager.default.removeItem(at: d) } }
        let envMnist = env.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: envMnist, withIntermediateDirectories: true)
        try HandMadeIDX.writeIDX(count: 3, value: 255, to: flag)
        try HandMadeIDX.writeIDX(count: 5, value: 0, to: envMnist)
        let both = DataLocator(dataDirectory: flag.path, environment: ["RDLAB_DATA_DIR": env.path, "HOME": env.path])
        #expect(try both.load("mnist", split: "train").count == 3)
        let envOnly = DataLocator(dataDirectory: nil, environment: ["RDLAB_DATA_DIR": env.path, "HOME": env.path])
        let loaded = try envOnly.load("mnist", split: "train")
        #expect(loaded.count == 5 && loaded.bytes.allSatisfy { $0 == 0 })
        let cache = DataLocator(dataDirectory: nil, environment: ["XDG_CACHE_HOME": flag.path, "HOME": flag.path])
        #expect(cache.searchDirectories(for: "mnist").first?.path == flag.appendingPathComponent("rdlab/datasets/mnist").path)
    }

    /// The seeds of the IDX and packed-bit fuzz corpora: the valid ones load, every malformed
    /// one is refused with a `DataError` naming the file (none traps).
    @Test func fuzzSeedsAreLoadedOrRefused() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/Corpus")
        let valid = ["one-image.gz", "raw-one-image.idx", "three-labels.gz", "one-row.bin", "two-rows.bin"]
        for target in ["FuzzIDX", "FuzzPackedBits"] {
            let folder = corpus.appendingPathComponent(target)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(names.count >= 4)
            for name in names {
                let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
                var loaded = false
                do {
                    if target == "FuzzPackedBits" {
                        loaded = try PackedBits.unpack(bytes, file: name).count > 0
                    } else {
                        let data = try Gzip.decompress(bytes, file: name)
                        loaded = (try? IDX.images(data, file: name)) != nil || (try? IDX.labels(data, file: name)) != nil
                        if !loaded { _ = try IDX.images(data, file: name) }
                    }
                } catch let DataError.malformed(file, _) {
                    #expect(file == name)
                }
                #expect(loaded == valid.contains(name), "\(target)/\(name)")
            }
        }
    }

    @Test func badFilesNameTheFileAndTheProblem() throws {
        let dir = try HandMadeIDX.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let locator = DataLocator(dataDirectory: dir.path, environment: ["HOME": dir.path, "RDLAB_OFFLINE": "1"])
        func expectMalformed(_ fragment: String, _ dataset: String = "mnist") {
            do {
                _ = try locator.load(dataset, split: "train")
                Issue.record("a bad file loaded")
            } catch let DataError.malformed(file, reason) {
                #expect(file.hasPrefix(dir.path))
                #expect(reason.contains(fragment), "\(reason)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        try HandMadeIDX.writeIDX(count: 2, value: 1, to: dir, magic: 0x801)
        expectMalformed("expected 0x00000803")
        try HandMadeIDX.writeIDX(count: 2, value: 1, labelsCount: 3, to: dir)
        expectMalformed("3 labels for 2 images")
        let images = dir.appendingPathComponent("train-images-idx3-ubyte")
        try HandMadeIDX.writeIDX(count: 2, value: 1, to: dir)
        try Data(try Data(contentsOf: images).prefix(600)).write(to: images)
        expectMalformed("expected 1584 for 2 images")
        // a truncated gzip stream
        try FileManager.default.removeItem(at: images)
        let gz = try Data(contentsOf: URL(fileURLWithPath: TestDatasets.fixtures).appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz"))
        try gz.prefix(5000).write(to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
        expectMalformed("truncated gzip")
        try Data([UInt8](repeating: 7, count: 99)).write(to: dir.appendingPathComponent("binarized_mnist_train.bin"))
        expectMalformed("98-byte packed rows", "binarized-mnist")
    }
}
