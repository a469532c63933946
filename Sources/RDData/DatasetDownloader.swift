import Crypto
import Foundation
import RDCompute
import RDFiles

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches missing dataset files into the user cache (`~/.cache/rdlab/datasets/<name>`),
/// verifying each against its published SHA-256 before it is renamed into place.
///
/// Sources: MNIST from TensorFlow Datasets' mirror, Fashion-MNIST from Zalando's bucket, the
/// static binarisation from Larochelle's `.amat` text files (checked, then packed to the
/// 98-bytes-per-row layout rdlab reads). `RDLAB_DATASET_MIRROR` replaces the base address
/// with another URL or a local folder holding the same file names.
public struct DatasetDownloader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Base address of each dataset's canonical files.
    static let sources: [String: String] = [
        "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "binarized-mnist": "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",
    ]

    /// Where a file comes from: (address, SHA-256 of what is fetched, whether it is `.amat` text).
    func source(of file: DatasetCatalog.File, dataset: String) -> (url: String, sha256: String, amat: Bool) {
        let base = environment["RDLAB_DATASET_MIRROR"].map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? Self.sources[dataset] ?? ""
        if let amat = file.amatSHA256 {
            return (base + file.name.replacingOccurrences(of: ".bin", with: ".amat"), amat, true)
        }
        return (base + file.name, file.sha256, false)
    }

    /// Fetches every file of `split` into `folder`; throws naming the file, address and reason.
    public func download(_ entry: DatasetCatalog.Entry, split: String, into folder: URL) throws {
        let name = entry.name
        for file in try entry.files(for: split).all {
            let target = folder.appendingPathComponent(file.name)
            if FileManager.default.fileExists(atPath: target.path) { continue }
            let (address, expected, isAmat) = source(of: file, dataset: name)
            let fetched = try fetch(address)
            let actual = SHA256.hash(data: fetched).hex
            guard actual == expected else {
                throw DataError.malformed(file: address, reason: "SHA-256 \(actual), expected \(expected); not saved")
            }
            let bytes = isAmat ? try Self.pack(amat: fetched, file: address) : fetched
            try AtomicFile.write(Data(bytes), to: target)
        }
    }

    /// The bytes at a URL or in a local folder (mirror).
    func fetch(_ address: String) throws -> [UInt8] {
        if !address.contains("://") || address.hasPrefix("file://") {
            let path = address.hasPrefix("file://") ? String(address.dropFirst(7)) : address
            do {
                return [UInt8](try AtomicFile.read(URL(fileURLWithPath: path)))
            } catch let error as FileSystemError {
                throw DataError.malformed(file: path, reason: "cannot be read from the mirror folder: \(error.cause)")
            }
        }
        guard let url = URL(string: address) else { throw DataError.malformed(file: address, reason: "not a valid address") }
        let box = FetchResult()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: url) { data, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            box.set(error.map { .failure(DataError.malformed(file: address, reason: "download failed: \($0.localizedDescription)")) }
                ?? (status == 200 && data != nil ? .success([UInt8](data!))
                    : .failure(DataError.malformed(file: address, reason: "download failed: HTTP status \(status)"))))
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + 600) == .timedOut {
            task.cancel()
            throw DataError.malformed(file: address, reason: "download timed out after 600 s")
        }
        return try box.get()
    }

    /// `.amat` text (784 space-separated 0/1 per line) → packed rows, MSB first.
    static func pack(amat: [UInt8], file: String) throws -> [UInt8] {
        var packed: [UInt8] = []
        packed.reserveCapacity(amat.count / 16)
        var row = [UInt8](repeating: 0, count: PackedBits.bytesPerRow)
        var column = 0
        var line = 1
        for byte in amat {
            switch byte {
            case UInt8(ascii: "0"), UInt8(ascii: "1"):
                guard column < 784 else { throw DataError.malformed(file: file, reason: "line \(line) has more than 784 values") }
                if byte == UInt8(ascii: "1") { row[column / 8] |= 0x80 >> UInt8(column % 8) }
                column += 1
            case UInt8(ascii: " "), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\n"):
                guard column == 784 else { throw DataError.malformed(file: file, reason: "line \(line) has \(column) values, expected 784") }
                packed += row
                row = [UInt8](repeating: 0, count: PackedBits.bytesPerRow)
                column = 0
                line += 1
            default:
                throw DataError.malformed(file: file, reason: "line \(line): unexpected byte \(byte) (expected 0, 1, spaces)")
            }
        }
        guard column == 0 else { throw DataError.malformed(file: file, reason: "last line is incomplete") }
        return packed
    }
}

/// The result of a download callback, handed across threads.
private final class FetchResult: @unchecked Sendable {
    private var result: Result<[UInt8], Error> = .failure(CancellationError())
    private let lock = NSLock()
    func set(_ value: Result<[UInt8], Error>) { lock.withLock { result = value } }
    func get() throws -> [UInt8] { try lock.withLock { try result.get() } }
}
