/// One split of an image dataset in memory: `count` images of 28×28 kept as bytes (grey
/// levels 0…255, or 0/1 for the static binarisation) and converted to [0, 1] per batch.
public struct Dataset: Sendable {
    /// Catalogue name (`binarized-mnist`, `mnist`, `fashion-mnist`).
    public let name: String
    public let split: String
    public let count: Int
    public let height: Int
    public let width: Int
    /// Row-major pixels, `count × height × width`; value / ``maximum`` is in [0, 1].
    public let bytes: [UInt8]
    /// 255 for grey levels, 1 for binary images.
    public let maximum: UInt8
    /// Class labels where the dataset has them.
    public let labels: [UInt8]?
    /// Whether the pixels are already 0/1 (static binarized MNIST).
    public let isBinary: Bool
    /// The files the split was read from.
    public let files: [String]

    public var pixelsPerImage: Int { height * width }

    public init(name: String, split: String, count: Int, height: Int, width: Int, bytes: [UInt8], maximum: UInt8,
        labels: [UInt8]?, isBinary: Bool, files: [String]) {
        self.name = name
        self.split = split
        self.count = count
        self.height = height
        self.width = width
        self.bytes = bytes
        self.maximum = maximum
        self.labels = labels
        self.isBinary = isBinary
        self.files = files
    }

    /// Pixel values of one image in [0, 1].
    public func image(_ index: Int) -> [Float] {
        let scale = 1 / Float(maximum)
        return bytes[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)].map { Float($0) * scale }
    }

    /// The first `n` examples (for quick runs: `--train-limit`).
    public func prefix(_ n: Int) -> Dataset {
        let kept = min(max(n, 0), count)
        return Dataset(name: name, split: split, count: kept, height: height, width: width,
            bytes: Array(bytes[0..<(kept * pixelsPerImage)]), maximum: maximum, labels: labels.map { Array($0[0..<kept]) },
            isBinary: isBinary, files: files)
    }
}
