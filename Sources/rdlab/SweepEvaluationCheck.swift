import RDData
import RDLab
import RDSweep

extension SweepSpec.Evaluation {
    /// Why `rdlab eval` could not evaluate what this asks of `point` ("point 3 (beta=1)"),
    /// trained by `command`, or `nil`: the IWAE bound needs a density e(z|x); the probes read
    /// each latent layer's posterior means (HIT's hierarchical VAE) and need class labels in the
    /// test split. `sweep plan` refuses the spec with the first point's problem.
    func problem(of point: String, trainedBy command: TrainCommand) -> String? {
        if iwae != nil && !command.modelSpec.hasEncoderDensity {
            return "evaluate: iwae needs a density e(z|x), and \(point) trains --model \(command.kind.rawValue), which has none; "
                + "remove `iwae` from `evaluate:` or the point"
        }
        guard probes else { return nil }
        guard command.kind == .hierarchical else {
            return "evaluate: probes reads each latent layer's posterior means (HIT's two-layer VAE), and \(point) trains "
                + "--model \(command.kind.rawValue); train --model \(ModelSpec.Kind.hierarchical.rawValue) or remove `probes` from `evaluate:`"
        }
        let dataset = command.settings(resumed: nil).dataset
        guard (try? DatasetCatalog.entry(dataset).files(for: "test").labels) != nil else {
            let labelled = DatasetCatalog.entries.filter { (try? $0.files(for: "test").labels) != nil }.map(\.name)
            return "evaluate: probes needs class labels, and \(point) trains on \(dataset), which has none; "
                + "set dataset to \(labelled.joined(separator: " or ")) or remove `probes` from `evaluate:`"
        }
        return nil
    }
}
