import Foundation
import RDLab

extension SweepCollector {
    /// Puts the point's `rdlab eval` result (`evaluations/<id>.json`) on its last test row — the
    /// IWAE bound and the PSNR — and returns its probes' rows, when the evaluation is of that
    /// row's step. An evaluation of another step (the run trained on after it) is reported and
    /// left out.
    func attachEvaluation(of point: SweepPoint, to metrics: inout [String: MetricRow], skipped: inout [String]) -> [ProbeResult] {
        let file = sweep.evaluation(point)
        guard let data = try? Data(contentsOf: file) else { return [] }
        let decoder = JSONDecoder.rdlab
        guard let evaluation = try? decoder.decode(Evaluation.self, from: data) else {
            skipped.append("\(file.path): not an `rdlab eval --json` result; left out")
            return []
        }
        guard let last = metrics.values.filter({ $0.split == "test" }).max(by: { $0.epoch < $1.epoch }),
              last.step == evaluation.step else {
            skipped.append("\(file.path): evaluates step \(evaluation.step), not the run's last epoch; left out")
            return []
        }
        let key = "\(last.epoch) test"
        metrics[key]?.negIwae = evaluation.negIwaeNats
        metrics[key]?.iwaeSamples = evaluation.iwaeSamples
        guard let report = evaluation.probes else { return [] }
        metrics[key]?.psnrDb = report.psnrDecibels
        let rows = [(ProbeFeatures.mean, report.layers), (.sample, report.sampledLayers)].flatMap { features, layers in
            layers.map { layer in
                ProbeResult(pointId: point.id, epoch: last.epoch, layer: layer.layer, features: features, dimension: layer.dimension,
                    classes: report.classes, heldOutExamples: report.heldOutExamples, logisticAccuracy: layer.logisticAccuracy,
                    nearestNeighbourAccuracy: layer.nearestNeighbourAccuracy, rateNats: layer.rateNats, boundAccuracy: layer.boundAccuracy,
                    chanceAccuracy: layer.chanceAccuracy)
            }
        }
        // a layer named twice would break the table's key: keep the last, as a metrics line replaces an earlier one
        var seen: [String: ProbeResult] = [:]
        for row in rows { seen["\(row.layer) \(row.features.rawValue)"] = row }
        if seen.count < rows.count { skipped.append("\(file.path): a layer's probes appear twice; the last kept") }
        return seen.values.sorted { ($0.layer, $0.features.rawValue) < ($1.layer, $1.features.rawValue) }
    }
}
