/// Learning rate at a step: `constant`, or `alemi` — constant for the first half of training,
/// then linear to 0 at the last step (Alemi: 100 epochs at 3e-4, then decay to 0 at 200).
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case constant, alemi }

    public var kind: Kind
    public var learningRate: Float
    public var totalSteps: Int

    public init(kind: Kind, learningRate: Float, totalSteps: Int) {
        self.kind = kind
        self.learningRate = learningRate
        self.totalSteps = totalSteps
    }

    public func value(at step: Int) -> Float {
        guard kind == .alemi, totalSteps > 1 else { return learningRate }
        let half = totalSteps / 2
        guard step >= half else { return learningRate }
        return learningRate * Float(max(0, totalSteps - step)) / Float(totalSteps - half)
    }
}
