import RDCompute

/// What a replayed step passes to the calls that depend on the step.
struct StepArguments {
    /// Steps since the first take: added to the Philox streams that advance with the step
    /// (0 for a call whose stream does not).
    var stepsSinceTake: UInt64
    /// The optimiser's hyperparameters and step count for this step's updates.
    var adam: AdamParameters
    var adamStep: Int
    /// Where the step's host reads go, by read.
    var readings: [UnsafeMutableBufferPointer<Float>]

    /// During a take every call runs with the arguments it was given.
    static var recording: StepArguments { StepArguments(stepsSinceTake: 0, adam: AdamParameters(), adamStep: 0, readings: []) }
}
