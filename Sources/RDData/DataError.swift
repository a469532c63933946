import RDCompute

/// Errors of the data layer; each names the file or dataset at fault and what to do.
public enum DataError: ReportableError, Equatable, Sendable {
    /// None of the search locations holds the dataset's files.
    case notFound(dataset: String, files: [String], searched: [String])
    /// A file exists but is not what the format requires (magic, size, gzip stream).
    case malformed(file: String, reason: String)
    /// A name that is not in the catalogue.
    case unknownDataset(name: String, valid: [String])
    /// A binarisation that does not exist.
    case unknownBinarization(name: String, valid: [String])
    /// A split the dataset does not have.
    case unknownSplit(dataset: String, split: String, valid: [String])

    public var description: String {
        switch self {
        case let .notFound(dataset, files, searched):
            return "dataset \(dataset) not found: expected \(files.joined(separator: ", ")) in one of\n"
                + searched.map { "  \($0)" }.joined(separator: "\n")
                + "\nput the files in one of these folders (or pass --data-dir / set RDLAB_DATA_DIR)"
        case let .malformed(file, reason):
            return "\(file): \(reason)"
        case let .unknownDataset(name, valid):
            return "unknown dataset '\(name)'; valid datasets: \(valid.joined(separator: ", "))"
        case let .unknownBinarization(name, valid):
            return "unknown binarization '\(name)'; valid: \(valid.joined(separator: ", "))"
        case let .unknownSplit(dataset, split, valid):
            return "dataset \(dataset) has no split '\(split)'; splits: \(valid.joined(separator: ", "))"
        }
    }
}
