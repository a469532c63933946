import Foundation

extension Double {
    /// These seconds as rdlab prints ETAs and elapsed times: `4m05s`, `2h07m`.
    public var durationText: String {
        let s = isFinite ? Int(rounded()) : 0
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
