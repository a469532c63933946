import Foundation
import RDCompute
import RDFiles
import RDLab

/// The toy model's diagnostics as `toy.json` and as `toy.png`, laid out like Alemi Fig. 2:
/// top left p*(x) (grey bars) with g(x) (black ticks), top right e(z) (bars), bottom left
/// e(z|x) and bottom right the reconstruction kernel Σ_z e(z|x) d(x'|z) (rows x, darker is
/// more mass, each map scaled to its largest entry).
enum ToyPictures {
    static let cell = 8
    static let margin = 16
    static let barHeight = 120

    static func write(_ diagnostics: ToyDiagnostics, to directory: RunDirectory) throws {
        try AtomicFile.write(try JSONEncoder.rdlab(pretty: true).encode(diagnostics), to: directory.toyDiagnostics)
        try picture(diagnostics).write(to: directory.toyPicture)
    }

    static func picture(_ d: ToyDiagnostics) -> PNGImage {
        let side = d.bins * cell
        var image = PNGImage(width: 3 * margin + 2 * side, height: 3 * margin + barHeight + side, fill: 255)
        let top = max(d.truth.max() ?? 0, d.generative.max() ?? 0, 1e-12)
        bars(d.truth, scale: top, level: 170, into: &image, x: margin, y: margin)
        ticks(d.generative, scale: top, into: &image, x: margin, y: margin)
        bars(d.aggregatePosterior, scale: max(d.aggregatePosterior.max() ?? 0, 1e-12), level: 60, into: &image,
            x: 2 * margin + side, y: margin)
        heatmap(d.encoder, into: &image, x: margin, y: 2 * margin + barHeight)
        heatmap(d.kernel, into: &image, x: 2 * margin + side, y: 2 * margin + barHeight)
        return image
    }

    static func fill(_ image: inout PNGImage, x: Int, y: Int, width: Int, height: Int, level: UInt8) {
        for row in max(0, y)..<min(image.height, y + height) {
            for column in max(0, x)..<min(image.width, x + width) { image.pixels[row * image.width + column] = level }
        }
    }

    /// One bar per value, heights relative to `scale`, on a baseline.
    static func bars(_ values: [Double], scale: Double, level: UInt8, into image: inout PNGImage, x: Int, y: Int) {
        for (i, v) in values.enumerated() {
            let h = Int((max(0, v) / scale * Double(barHeight)).rounded())
            fill(&image, x: x + i * cell + 1, y: y + barHeight - h, width: cell - 2, height: h, level: level)
        }
        fill(&image, x: x, y: y + barHeight, width: values.count * cell, height: 1, level: 0)
    }

    /// A short black mark per value at its height.
    static func ticks(_ values: [Double], scale: Double, into image: inout PNGImage, x: Int, y: Int) {
        for (i, v) in values.enumerated() {
            let h = Int((max(0, v) / scale * Double(barHeight)).rounded())
            fill(&image, x: x + i * cell, y: y + barHeight - h - 1, width: cell, height: 2, level: 0)
        }
    }

    /// Rows of values as squares, darker for more.
    static func heatmap(_ rows: [[Double]], into image: inout PNGImage, x: Int, y: Int) {
        let top = max(rows.flatMap { $0 }.max() ?? 0, 1e-12)
        for (r, row) in rows.enumerated() {
            for (c, v) in row.enumerated() {
                let level = UInt8((255 * (1 - max(0, min(1, v / top)))).rounded())
                fill(&image, x: x + c * cell, y: y + r * cell, width: cell, height: cell, level: level)
            }
        }
    }
}
