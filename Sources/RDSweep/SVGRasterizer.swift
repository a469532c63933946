import Foundation

/// PNG copies of SVG plots, for terminals and issue trackers, by `rsvg-convert` (librsvg,
/// Debian's `librsvg2-bin`) at twice the SVG's size.
public enum SVGRasterizer {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The `rsvg-convert` on `PATH`, if any.
    static var tool: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("rsvg-convert") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Writes `x.png` beside `x.svg` (atomically) and returns it.
    public static func png(of svg: URL) throws -> URL {
        guard let tool else {
            throw Failure(description: "PNG copies need rsvg-convert (Debian: apt-get install librsvg2-bin); the SVGs are written")
        }
        let png = svg.deletingPathExtension().appendingPathExtension("png")
        let temporary = svg.deletingLastPathComponent().appendingPathComponent(".\(png.lastPathComponent).\(getpid()).tmp")
        let process = Process()
        process.executableURL = tool
        process.arguments = ["--zoom", "2", "--format", "png", "--output", temporary.path, svg.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, rename(temporary.path, png.path) == 0 else {
            unlink(temporary.path)
            throw Failure(description: "rsvg-convert could not draw \(svg.path): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return png
    }
}
