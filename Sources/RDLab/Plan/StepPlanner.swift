import RDCompute

/// The step plans of one trainer, by batch shape, and where the recording of each stands.
///
/// A shape's first step runs eagerly without recording (a model may make, on its first step,
/// what it keeps for later ones); the next two are recorded, and if they agree their plan
/// replays every later step of that shape while the objective's weights β stay those it
/// was recorded with. When β moves (an annealed β, a KL warm-up's next epoch) the plan is
/// dropped and two steps are recorded again once β stays from one step to the next; an
/// objective whose multiplier moves after every step (a target rate, GECO) runs eagerly
/// once two takes have shown it.
final class StepPlanner {
    enum Stage {
        /// The next step of the shape is recorded as a first take.
        case ready
        /// The take of step `step`, made with weights `betas`.
        case firstTake(StepRecorder, step: Int, betas: [Float])
        case planned(StepPlan, readout: StepReadout, betas: [Float])
        /// The shape's steps run eagerly.
        case refused
    }

    private var stages: [[Int]: Stage] = [:]

    /// nil for a shape not seen before.
    func stage(of shape: [Int]) -> Stage? { stages[shape] }

    func set(_ stage: Stage, for shape: [Int]) { stages[shape] = stage }
}
