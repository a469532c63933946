import Foundation

/// Where tests find data. The fixtures under `Tests/Fixtures/datasets` (a few hundred examples
/// of each dataset, committed; see the README there) are always present, so the suite passes
/// in a clone with nothing beside it. The full files are optional: `../shared/datasets` beside
/// the checkout (CI's layout, or `RDLAB_DATA_DIR`), else Debian's Fashion-MNIST.
public enum TestDatasets {
    /// `Tests/Fixtures/datasets`: the layout `DataLocator` searches (`<folder>/<dataset>/<file>`).
    public static let fixtures: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/datasets").path

    /// The full datasets beside the checkout (or in `RDLAB_DATA_DIR`), when they are there.
    public static let shared: String? = {
        let environment = ProcessInfo.processInfo.environment["RDLAB_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let beside = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets").path
        let path = environment ?? beside
        return FileManager.default.fileExists(atPath: path + "/binarized-mnist/binarized_mnist_test.bin") ? path : nil
    }()

    /// Debian's `dataset-fashion-mnist` (installed by `scripts/bootstrap.sh`), when installed.
    public static let debianFashionMNIST: String? = {
        let path = "/usr/share/datasets/fashion-mnist"
        return FileManager.default.fileExists(atPath: path + "/t10k-labels-idx1-ubyte.gz") ? path : nil
    }()

    /// The folder holding the full files of `dataset`, and a phrase saying which one it is.
    public static func full(_ dataset: String) -> (directory: String, source: String)? {
        if let shared { return (shared, "../shared/datasets (\(shared))") }
        if dataset == "fashion-mnist", let debian = debianFashionMNIST { return (debian, "Debian's dataset-fashion-mnist (\(debian))") }
        return nil
    }

    /// A fresh empty temporary folder.
    public static func temporaryDirectory(_ name: String = "data") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rdlab-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
