/// The datasets rdlab knows: their files per split and the SHA-256 of each file
/// (from `shared/datasets/SHA256SUMS`, equal to the published sums). Loaders and downloads take
/// a catalogue as a parameter (this one by default), so tests can describe small fixtures.
public enum DatasetCatalog {
    /// One file of a split.
    public struct File: Sendable {
        public let name: String
        public let sha256: String
        /// For packed static binarized MNIST: the SHA-256 of the original `.amat` text it is
        /// packed from, which is what a download fetches (TensorFlow Datasets' sums).
        public let amatSHA256: String?

        public init(name: String, sha256: String, amatSHA256: String? = nil) {
            self.name = name
            self.sha256 = sha256
            self.amatSHA256 = amatSHA256
        }
    }

    /// One split: an images file, and a labels file for the IDX datasets.
    public struct SplitFiles: Sendable {
        public let images: File
        public let labels: File?
        var all: [File] { [images] + (labels.map { [$0] } ?? []) }

        public init(images: File, labels: File?) {
            self.images = images
            self.labels = labels
        }
    }

    public struct Entry: Sendable {
        public let name: String
        /// Static binarized MNIST ships 0/1 pixels as packed bits; the others are IDX grey levels.
        public let isPackedBinary: Bool
        public let splits: [(String, SplitFiles)]

        public init(name: String, isPackedBinary: Bool, splits: [(String, SplitFiles)]) {
            self.name = name
            self.isPackedBinary = isPackedBinary
            self.splits = splits
        }

        /// What a run binarises with unless told: nothing for the static binarisation, fresh
        /// Bernoulli draws per epoch for grey images.
        public var defaultBinarization: Binarization { isPackedBinary ? .none : .dynamic }

        public func files(for split: String) throws -> SplitFiles {
            guard let files = splits.first(where: { $0.0 == split })?.1 else {
                throw DataError.unknownSplit(dataset: name, split: split, valid: splits.map(\.0))
            }
            return files
        }
    }

    public static let entries: [Entry] = [
        Entry(name: "binarized-mnist", isPackedBinary: true, splits: [
            ("train", SplitFiles(images: File(name: "binarized_mnist_train.bin",
                sha256: "727146c35424b019f3e350e1e69faa05644a0abaf787e3f4e1a9632220a13906",
                amatSHA256: "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d"), labels: nil)),
            ("valid", SplitFiles(images: File(name: "binarized_mnist_valid.bin",
                sha256: "a256ac44ae26be720fad8616a05ed6ecfd1619930d9a208379bb2a4405df5b6d",
                amatSHA256: "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2"), labels: nil)),
            ("test", SplitFiles(images: File(name: "binarized_mnist_test.bin",
                sha256: "9fcd8da6f0fdf09b2ba30fe63a0bb784042a0de82563172530229b983e294ff2",
                amatSHA256: "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c"), labels: nil)),
        ]),
        Entry(name: "mnist", isPackedBinary: false, splits: [
            ("train", SplitFiles(
                images: File(name: "train-images-idx3-ubyte.gz", sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
                labels: File(name: "train-labels-idx1-ubyte.gz", sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"))),
            ("test", SplitFiles(
                images: File(name: "t10k-images-idx3-ubyte.gz", sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
                labels: File(name: "t10k-labels-idx1-ubyte.gz", sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"))),
        ]),
        Entry(name: "fashion-mnist", isPackedBinary: false, splits: [
            ("train", SplitFiles(
                images: File(name: "train-images-idx3-ubyte.gz", sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
                labels: File(name: "train-labels-idx1-ubyte.gz", sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"))),
            ("test", SplitFiles(
                images: File(name: "t10k-images-idx3-ubyte.gz", sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
                labels: File(name: "t10k-labels-idx1-ubyte.gz", sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"))),
        ]),
    ]

    public static var names: [String] { entries.map(\.name) }

    public static func entry(_ name: String, in catalog: [Entry] = entries) throws -> Entry {
        guard let entry = catalog.first(where: { $0.name == name }) else {
            throw DataError.unknownDataset(name: name, valid: catalog.map(\.name))
        }
        return entry
    }
}
