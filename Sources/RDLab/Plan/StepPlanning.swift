/// Whether a trainer records its training step once and replays it (``StepPlan``).
public enum StepPlanning: String, CaseIterable, Codable, Sendable {
    /// Record two steps of each batch shape and replay their plan from then on, wherever the
    /// two agree; other steps (an odd last batch, Echo noise, a β that moves every step) run
    /// eagerly. The numbers are those of eager steps, to the last bit.
    case replayed
    /// Build a graph and its tape every step.
    case eager
}
