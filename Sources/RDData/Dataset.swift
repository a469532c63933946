/// One split of an image dataset in memory: `count` images of 28×28, pixel values in [0, 1].
public struct Dataset: Sendable {
    /// Catalogue name (`binarized-mnist`, `mnist`, `fashion-mnist`).
    public let name: String
    public let split: String
    public let count: Int
    public let height: Int
    public let width: Int
    /// Row-major pixels, `count × height × width`, in [0, 1] (grey levels / 255, or 0/1).
    public let pixels: [Float]
    /// Class labels where the dataset has them.
    public let labels: [UInt8]?
    /// Whether the pixels are already 0/1 (static binarized MNIST).
    public let isBinary: Bool
    /// The files the split was read from.
    public let files: [String]

    public var pixelsPerImage: Int { height * width }

    /// The first `n` examples (for quick runs: `--train-limit`).
    public func prefix(_ n: Int) -> Dataset {
        let kept = min(max(n, 0), count)
        return Dataset(name: name, split: split, count: kept, height: height, width: width,
            pixels: Array(pixels[0..<(kept * pixelsPerImage)]), labels: labels.map { Array($0[0..<kept]) },
            isBinary: isBinary, files: files)
    }
}
