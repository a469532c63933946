/// An error whose description is the whole message for the person at the terminal: what
/// failed, the file, flag or device at fault, and what to do — printed as one
/// `rdlab: error: …` line with exit status 1, without usage text or a type name.
public protocol ReportableError: Error, CustomStringConvertible {}

extension ComputeError: ReportableError {}
