import Foundation

extension SweepReport {
    /// A column the points table shows only where a sweep has its values: a layer's rate, the
    /// PSNR, a layer's probe accuracy.
    struct ExtraColumn {
        var heading: String
        var format: String
        var values: [String: Double]
    }

    /// R of each layer (two or more layers), the PSNR and the logistic probe on each layer's
    /// posterior means, where the store has them.
    func extraColumns(_ final: [FinalPoint]) throws -> [ExtraColumn] {
        let rates = try store.finalLayerRates()
        let layers = Set(rates.values.flatMap(\.keys)).sorted()
        var columns = layers.count < 2 ? [] : layers.map { layer in
            ExtraColumn(heading: "R \(layer)", format: "%.3f", values: rates.compactMapValues { $0[layer] })
        }
        let psnr = Dictionary(final.compactMap { point in point.psnrDb.map { (point.pointId, $0) } }, uniquingKeysWith: { a, _ in a })
        if !psnr.isEmpty { columns.append(ExtraColumn(heading: "PSNR (dB)", format: "%.2f", values: psnr)) }
        let means = try store.probes().filter { $0.features == .mean }
        for layer in Set(means.map(\.layer)).sorted() {
            columns.append(ExtraColumn(heading: "probe \(layer)", format: "%.3f", values: Dictionary(
                means.filter { $0.layer == layer }.map { ($0.pointId, $0.logisticAccuracy) }, uniquingKeysWith: { a, _ in a })))
        }
        return columns
    }
}
