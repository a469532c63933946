import Foundation

extension Double {
    /// These seconds as rdlab prints ETAs and elapsed times: `4m05s`, `2h07m`.
    public var durationText: String {
        let s = isFinite ? Int(min(max(rounded(), 0), 1e9)) : 0  // past 31 years an ETA says nothing more
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
