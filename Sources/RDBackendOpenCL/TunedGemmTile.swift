import Crypto
import Foundation
import RDCompute
import RDFiles

/// `rdlab tune`'s result for one device and driver: the fastest correct GEMM/conv tile it measured,
/// stored as `gemm-tile-<key>.json` beside the kernel cache (``OpenCLConfiguration/cacheDirectory``).
///
/// The key is the SHA-256 of the fields ``ProgramCache`` keys programs by (device name, driver
/// version, platform name and version) plus the device vendor, so a new driver (which may
/// compile the kernels differently) starts again from the table; the same fields are stored
/// in the file and compared on load, so a file copied under another name is not taken either.
/// The file also records the digest of the kernel sources measured (``TuningSources``): a
/// record of other kernels is treated as absent.
public struct TunedGemmTile: Codable, Sendable, Equatable {
    /// 2: the kernel sources' digest.
    static let formatVersion = 2

    public var format = Self.formatVersion
    public var deviceName: String
    public var deviceVendor: String
    public var driverVersion: String
    public var platformName: String
    public var platformVersion: String
    /// ``TuningSources/digest`` of the kernels measured.
    public var kernelSources: String
    /// The tile chosen (`TSxWPT` in the file).
    public var tile: GemmTile
    /// The table's tile it was measured against.
    public var defaultTile: GemmTile
    /// The tuning GEMM's m = n = k.
    public var size: Int
    /// The timed convolution layer (its three passes).
    public var convLayer: String
    /// Median device time of one size³ GEMM with the table's tile and with the chosen one.
    public var defaultMicroseconds: Double
    public var bestMicroseconds: Double
    /// Median device time of the conv layer's three passes with the table's tile and with the chosen one.
    public var defaultConvMicroseconds: Double
    public var bestConvMicroseconds: Double
    public var tunedAt: Date

    /// How many times faster the chosen tile ran the GEMM and the conv layer together than the
    /// table's (1 when the table's won).
    public var speedup: Double { (defaultMicroseconds + defaultConvMicroseconds) / (bestMicroseconds + bestConvMicroseconds) }

    init(device: DeviceDescription, kernelSources: String, tile: GemmTile, defaultTile: GemmTile, size: Int, convLayer: String,
        defaultMicroseconds: Double, bestMicroseconds: Double, defaultConvMicroseconds: Double, bestConvMicroseconds: Double,
        tunedAt: Date) {
        deviceName = device.name
        deviceVendor = device.vendor
        driverVersion = device.driverVersion
        platformName = device.platformName
        platformVersion = device.platformVersion
        self.kernelSources = kernelSources
        self.tile = tile
        self.defaultTile = defaultTile
        self.size = size
        self.convLayer = convLayer
        self.defaultMicroseconds = defaultMicroseconds
        self.bestMicroseconds = bestMicroseconds
        self.defaultConvMicroseconds = defaultConvMicroseconds
        self.bestConvMicroseconds = bestConvMicroseconds
        self.tunedAt = tunedAt
    }

    /// Whether this record was measured on `device` with its current driver.
    func matches(_ device: DeviceDescription) -> Bool {
        deviceName == device.name && deviceVendor == device.vendor && driverVersion == device.driverVersion
            && platformName == device.platformName && platformVersion == device.platformVersion
    }

    /// The file for `device` in the kernel cache `directory`.
    static func file(for device: DeviceDescription, in directory: URL) -> URL {
        let keyText = ["rdlab-gemm-tile", "\(formatVersion)", device.name, device.vendor, device.driverVersion,
            device.platformName, device.platformVersion].joined(separator: "\u{0}")
        let key = SHA256.hash(data: Array(keyText.utf8)).hex
        return directory.appendingPathComponent("gemm-tile-\(key.prefix(32)).json")
    }

    /// What ``load(for:in:sources:)`` found.
    enum Lookup: Equatable {
        /// No cache directory, or never tuned with this device and driver.
        case absent
        case found(TunedGemmTile)
        /// A valid record measured with other kernel sources: as good as absent, worth one note.
        case otherKernels(path: String)
        /// A file that does not read, decode, match the device or hold a valid tile.
        case damaged(path: String, reason: String)
    }

    /// The record for `device` in the kernel cache `directory`, measured with kernels of this
    /// `sources` digest; never throws, so a bad file costs only the tuning, not the backend.
    static func load(for device: DeviceDescription, in directory: URL?, sources: String) -> Lookup {
        guard let directory else { return .absent }
        let url = file(for: device, in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return .absent }
        let record: TunedGemmTile
        do {
            record = try decoder.decode(TunedGemmTile.self, from: try AtomicFile.read(url))
        } catch let error as DecodingError {
            return .damaged(path: url.path, reason: "not a GEMM tuning record: \(error.plainDescription)")
        } catch {
            return .damaged(path: url.path, reason: "\(error)")
        }
        guard record.format == formatVersion else {
            return .damaged(path: url.path, reason: "format \(record.format), expected \(formatVersion)")
        }
        guard record.matches(device) else {
            return .damaged(path: url.path, reason: "measured on \(record.deviceName), driver \(record.driverVersion)")
        }
        let times = [record.defaultMicroseconds, record.bestMicroseconds, record.defaultConvMicroseconds, record.bestConvMicroseconds]
        guard times.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            return .damaged(path: url.path, reason: "its times are not positive numbers")
        }
        guard record.kernelSources == sources else { return .otherKernels(path: url.path) }
        return .found(record)
    }

    /// Writes the record atomically as `device`'s file in `directory` and returns the file.
    func store(for device: DeviceDescription, in directory: URL) throws -> URL {
        let url = Self.file(for: device, in: directory)
        try AtomicFile.write(try Self.encoder.encode(self), to: url)
        return url
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase  // as the messages of `plainDescription` name the fields
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
