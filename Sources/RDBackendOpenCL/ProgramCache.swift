import COpenCL
import Crypto
import Foundation
import Logging
import RDCompute
import RDFiles

/// Compiled programs of one device context: in memory for the process, on disk across runs.
///
/// The disk key is the SHA-256 of the cache-format version, source, build options, device
/// name, driver version and platform name and version. An entry is a small header (magic,
/// payload length, payload SHA-256) and the driver's program binary, written to a temporary
/// file and renamed. An entry that is truncated, fails its checksum, or that the driver
/// rejects is deleted and rebuilt from source.
final class ProgramCache: @unchecked Sendable {
    static let formatVersion = 1
    static let magic = Array("RDLABKC1".utf8)

    let api: OpenCLAPI
    let device: OpenCLDevice
    let context: cl_context
    let directory: URL?
    let logger: Logger
    private var programs: [String: cl_program] = [:]
    private let lock = NSLock()

    init(api: OpenCLAPI, device: OpenCLDevice, context: cl_context, directory: URL?, logger: Logger) {
        self.api = api
        self.device = device
        self.context = context
        self.directory = directory
        self.logger = logger
    }

    deinit {
        for program in programs.values { _ = api.releaseProgram(program) }
    }

    var deviceName: String { "\(device.description.selector) (\(device.description.name))" }

    /// The built program for `source` with `options`, from memory, disk or the compiler.
    func program(family: String, source: String, options: String) throws -> cl_program {
        let d = device.description
        let keyText = ["rdlab-kernel-cache", "\(Self.formatVersion)", source, options, d.name, d.driverVersion,
            d.platformName, d.platformVersion].joined(separator: "\u{0}")
        let key = SHA256.hash(data: Array(keyText.utf8)).hex
        return try lock.withLock {
            if let program = programs[key] { return program }
            let file = directory?.appendingPathComponent("\(family)-\(key.prefix(32)).bin")
            if let file, let program = loadCached(family: family, file: file, options: options) {
                programs[key] = program
                return program
            }
            let start = Date()
            let program = try buildFromSource(family: family, source: source, options: options)
            let ms = Int(Date().timeIntervalSince(start) * 1000)
            if let file {
                store(program, to: file)
                logger.debug("kernel cache miss: \(family) on \(deviceName) built in \(ms) ms, stored \(file.path)")
            } else {
                logger.debug("kernel cache off: \(family) on \(deviceName) built in \(ms) ms")
            }
            programs[key] = program
            return program
        }
    }

    private func buildFromSource(family: String, source: String, options: String) throws -> cl_program {
        var code: cl_int = 0
        let program: cl_program? = source.withCString { text in
            var pointer: UnsafePointer<CChar>? = text
            var length = strlen(text)
            return api.createProgramWithSource(context, 1, &pointer, &length, &code)
        }
        guard let program, code == CL_SUCCESS else {
            throw ComputeError.driver(call: "clCreateProgramWithSource(\(family))", code: code, device: deviceName)
        }
        try build(program, family: family, options: options)
        return program
    }

    private func build(_ program: cl_program, family: String, options: String) throws {
        var id: cl_device_id? = device.id
        let code = options.withCString { api.buildProgram(program, 1, &id, $0, nil, nil) }
        guard code == CL_SUCCESS else {
            let log = buildLog(program)
            _ = api.releaseProgram(program)
            throw ComputeError.kernelBuild(kernel: "\(family).cl", options: options, device: deviceName,
                log: log.isEmpty ? "(driver returned error \(code) and an empty log)" : log)
        }
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        _ = api.getProgramBuildInfo(program, device.id, cl_uint(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
        guard size > 1 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        _ = api.getProgramBuildInfo(program, device.id, cl_uint(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A program from a valid disk entry, or nil (after deleting a bad entry).
    private func loadCached(family: String, file: URL, options: String) -> cl_program? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let bytes = [UInt8](data)
        func reject(_ reason: String) -> cl_program? {
            try? FileManager.default.removeItem(at: file)
            logger.debug("kernel cache entry corrupt: \(file.path) (\(reason)); deleted, rebuilding \(family)")
            return nil
        }
        let header = Self.magic.count + 8 + 32
        guard bytes.count >= header, Array(bytes[0..<Self.magic.count]) == Self.magic else { return reject("bad header") }
        let length = bytes[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        guard UInt64(bytes.count - header) == length else {
            return reject("truncated: \(bytes.count - header) of \(length) payload bytes")
        }
        let payload = Array(bytes[header...])
        guard Array(SHA256.hash(data: payload)) == Array(bytes[16..<48]) else { return reject("checksum mismatch") }
        var id: cl_device_id? = device.id
        var size = payload.count
        var status: cl_int = 0
        var code: cl_int = 0
        let program: cl_program? = payload.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return api.createProgramWithBinary(context, 1, &id, &size, &pointer, &status, &code)
        }
        guard let program, code == CL_SUCCESS, status == CL_SUCCESS else { return reject("driver rejected the binary (\(code))") }
        let built = options.withCString { api.buildProgram(program, 1, &id, $0, nil, nil) }
        guard built == CL_SUCCESS else {
            _ = api.releaseProgram(program)
            return reject("driver could not build the binary (\(built))")
        }
        logger.debug("kernel cache hit: \(family) on \(deviceName) from \(file.path)")
        return program
    }

    /// Writes the program binary atomically; failures only cost a rebuild next time.
    private func store(_ program: cl_program, to file: URL) {
        var size = 0
        guard api.getProgramInfo(program, cl_uint(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0
        else { return }
        var payload = [UInt8](repeating: 0, count: size)
        let code = payload.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return api.getProgramInfo(program, cl_uint(CL_PROGRAM_BINARIES),
                MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &pointer, nil)
        }
        guard code == CL_SUCCESS else { return }
        var entry = Self.magic
        entry += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(size) >> UInt64(8 * $0)) }
        entry += Array(SHA256.hash(data: payload))
        entry += payload
        do {
            try AtomicFile.write(Data(entry), to: file)
        } catch {
            logger.debug("kernel cache: could not store \(file.path): \(error)")
        }
    }
}
