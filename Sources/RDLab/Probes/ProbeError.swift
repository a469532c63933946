import RDCompute

/// A probe that cannot be fitted or evaluated on what it was given, and why.
///
/// Every entry point of the probes validates its input and throws one of these instead of
/// trapping: the figures are computed at the end of long evaluations, where a crash loses
/// the run's other results.
public enum ProbeError: ReportableError, Equatable {
    /// A classification problem needs at least two classes.
    case tooFewClasses(Int)
    /// A label entropy outside `[0, ln M]` (nats) for `classes` classes.
    case labelEntropyOutOfRange(entropy: Double, classes: Int)
    /// Nothing to fit or measure; the string names what is empty.
    case noExamples(String)
    /// An array whose size does not fit the others; the string names it.
    case sizeMismatch(String, expected: Int, found: Int)
    /// A label outside `0 ..< classes`, at example `index`.
    case labelOutOfRange(label: Int, index: Int, classes: Int)
    /// A NaN or infinite value at `index` of the named array.
    case nonFiniteValue(String, index: Int)
    /// A setting outside its domain; the strings name it and say what it must be.
    case invalidSetting(String, reason: String)
    /// k-nearest neighbours with more neighbours than references.
    case tooFewReferences(k: Int, references: Int)
    /// An information (rate) that is NaN.
    case nonFiniteInformation(Double)
    /// The logistic probe's objective became NaN or infinite after `steps` steps.
    case diverged(objective: Double, steps: Int)
    /// A figure asked for before anything was accumulated; the string names it.
    case nothingAccumulated(String)

    public var description: String {
        switch self {
        case .tooFewClasses(let classes):
            "a probe needs at least 2 classes (got \(classes))"
        case let .labelEntropyOutOfRange(entropy, classes):
            "label entropy \(entropy) nats is outside [0, ln \(classes)] for \(classes) classes"
        case .noExamples(let what):
            "\(what) has no examples"
        case let .sizeMismatch(what, expected, found):
            "\(what) has \(found) values where \(expected) were expected"
        case let .labelOutOfRange(label, index, classes):
            "label \(label) of example \(index) is not one of 0 ..< \(classes)"
        case let .nonFiniteValue(what, index):
            "\(what) holds a NaN or infinite value at index \(index)"
        case let .invalidSetting(name, reason):
            "\(name) \(reason)"
        case let .tooFewReferences(k, references):
            "\(k)-nearest neighbours needs at least \(k) references (got \(references))"
        case .nonFiniteInformation(let value):
            "the information given to the accuracy bound is \(value), not a number of nats (a NaN rate?)"
        case let .diverged(objective, steps):
            "the logistic probe's objective is \(objective) after \(steps) steps; lower its learning rate"
        case .nothingAccumulated(let what):
            "\(what) has not been given any values yet"
        }
    }
}
