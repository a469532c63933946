import Foundation
import RDCompute
import RDFiles

/// Finds and loads dataset files. Search order: `--data-dir`, `RDLAB_DATA_DIR`, the user
/// cache `~/.cache/rdlab/datasets/<name>`, then Debian's `/usr/share/datasets/<name>`
/// (package `dataset-fashion-mnist`). In the first two, files may sit in `<dir>/<name>/`
/// (the layout of `shared/datasets`) or directly in `<dir>`. A `.gz` file may also be
/// present uncompressed (without `.gz`).
public struct DataLocator: Sendable {
    public var dataDirectory: String?
    public var environment: [String: String]
    /// The datasets and their files (``DatasetCatalog/entries`` unless a test describes others).
    public var catalog: [DatasetCatalog.Entry]

    public init(dataDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        catalog: [DatasetCatalog.Entry] = DatasetCatalog.entries) {
        self.dataDirectory = dataDirectory
        self.environment = environment
        self.catalog = catalog
    }

    /// The folders searched for `name`, in order.
    public func searchDirectories(for name: String) -> [URL] {
        var folders: [URL] = []
        for root in [dataDirectory, environment["RDLAB_DATA_DIR"]].compactMap({ $0 }).filter({ !$0.isEmpty }) {
            let url = URL(fileURLWithPath: root)
            folders += [url.appendingPathComponent(name), url]
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? home.appendingPathComponent(".cache")
        folders.append(cache.appendingPathComponent("rdlab/datasets/\(name)"))
        folders.append(URL(fileURLWithPath: "/usr/share/datasets/\(name)"))
        return folders
    }

    /// Where each file of `split` is: the first folder that holds all of them.
    public func locate(_ name: String, split: String) throws -> [URL] {
        let entry = try DatasetCatalog.entry(name, in: catalog)
        let files = try entry.files(for: split).all
        let searched = searchDirectories(for: name)
        for folder in searched {
            let found = files.compactMap { file -> URL? in
                let candidates = [file.name] + (file.name.hasSuffix(".gz") ? [String(file.name.dropLast(3))] : [])
                return candidates.map { folder.appendingPathComponent($0) }.first {
                    FileManager.default.fileExists(atPath: $0.path)
                }
            }
            if found.count == files.count { return found }
        }
        throw DataError.notFound(dataset: name, files: files.map(\.name), searched: searched.map(\.path))
    }

    /// The user cache folder of a dataset, where downloads go.
    public func cacheDirectory(for name: String) -> URL { searchDirectories(for: name)[searchDirectories(for: name).count - 2] }

    /// Locates a split, downloading it into the cache when it is nowhere and downloads are
    /// allowed (`RDLAB_OFFLINE=1` forbids them); a failed download is added to the error.
    public func locateOrDownload(_ name: String, split: String) throws -> [URL] {
        do {
            return try locate(name, split: split)
        } catch DataError.notFound(let dataset, let files, let searched) {
            guard environment["RDLAB_OFFLINE"] != "1" else { throw DataError.notFound(dataset: dataset, files: files, searched: searched) }
            do {
                try DatasetDownloader(environment: environment).download(try DatasetCatalog.entry(name, in: catalog), split: split,
                    into: cacheDirectory(for: name))
            } catch {
                throw DataError.notFound(dataset: dataset, files: files,
                    searched: searched + ["(download into \(cacheDirectory(for: name).path) failed: \(error))"])
            }
            return try locate(name, split: split)
        }
    }

    /// Loads one split into memory (downloading it first if it is missing, see ``locateOrDownload(_:split:)``).
    public func load(_ name: String, split: String) throws -> Dataset {
        let entry = try DatasetCatalog.entry(name, in: catalog)
        let urls = try locateOrDownload(name, split: split)
        if entry.isPackedBinary {
            let (count, pixels) = try PackedBits.unpack(try read(urls[0]), file: urls[0].path)
            return Dataset(name: name, split: split, count: count, height: 28, width: 28, bytes: pixels, maximum: 1,
                labels: nil, isBinary: true, files: urls.map(\.path))
        }
        let imageBytes = try Gzip.decompress(try read(urls[0]), file: urls[0].path)
        let images = try IDX.images(imageBytes, file: urls[0].path)
        let labels = try IDX.labels(try Gzip.decompress(try read(urls[1]), file: urls[1].path), file: urls[1].path)
        guard labels.count == images.count else {
            throw DataError.malformed(file: urls[1].path, reason: "\(labels.count) labels for \(images.count) images in \(urls[0].path)")
        }
        return Dataset(name: name, split: split, count: images.count, height: images.rows, width: images.columns,
            bytes: Array(images.pixels), maximum: 255, labels: labels, isBinary: false, files: urls.map(\.path))
    }

    func read(_ url: URL) throws -> [UInt8] {
        do {
            return [UInt8](try AtomicFile.read(url))
        } catch let error as FileSystemError {
            throw DataError.malformed(file: url.path, reason: "cannot be read: \(error.cause)")
        }
    }
}
