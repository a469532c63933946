import Foundation

/// A sequential colour scale (viridis, dark blue → yellow: readable in grey print and for
/// colour-blind readers) over a range of values.
public struct ColorScale {
    public var range: ClosedRange<Double>

    /// Viridis at 0, 0.25, 0.5, 0.75 and 1, interpolated linearly between.
    static let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]

    public init(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        range = low...(high > low ? high : low + 1)
    }

    /// `#rrggbb` for `value` (clamped to the range; grey for a missing value).
    public func color(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "#d9d9d9" }
        let t = min(1, max(0, (value - range.lowerBound) / (range.upperBound - range.lowerBound))) * Double(Self.stops.count - 1)
        let i = min(Int(t), Self.stops.count - 2), f = t - Double(i)
        let a = Self.stops[i], b = Self.stops[i + 1]
        func channel(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return String(format: "#%02x%02x%02x", channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
    }

    /// A vertical colour bar with ticks, its top-left corner at (x, y).
    func bar(x: Double, y: Double, height: Double, label: String) -> String {
        var out = "<g class=\"colorbar\">"
        let steps = 32
        for i in 0..<steps {
            let value = range.upperBound - (range.upperBound - range.lowerBound) * (Double(i) + 0.5) / Double(steps)
            out += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"14\" height=\"%.2f\" fill=\"%@\"/>", x,
                y + height * Double(i) / Double(steps), height / Double(steps) + 0.5, color(value))
        }
        let ticks = SVGChart.ticks(range, count: 5)
        for tick in ticks {
            let ty = y + height * (range.upperBound - tick) / (range.upperBound - range.lowerBound)
            out += String(format: "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\">%@</text>", x + 18, ty + 4, SVGChart.tickText(tick, step: SVGChart.step(ticks)))
        }
        return out + String(format: "<text x=\"%.2f\" y=\"%.2f\" font-size=\"12\">%@</text></g>\n", x, y - 8, SVGChart.escape(label))
    }
}
