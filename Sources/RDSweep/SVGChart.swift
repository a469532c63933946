import Foundation

/// A two-axis chart written as SVG: scatter series, lines, and labelled reference lines, with
/// ticks at 1, 2 or 5 × 10ᵏ and a legend. Sized for a page width (760 × 480 px with the
/// legend at the right, 13 px text); every element carries a class (`point`, `series-line`, `reference`) so a test
/// or a stylesheet can find it.
public struct SVGChart {
    public struct Series {
        public enum Style { case points, line, dashedLine, pointsAndLine }
        /// The shape of each point, so series stay apart without colour.
        public enum Marker { case circle, triangle, square, diamond }
        public var name: String
        public var points: [RDPoint]
        public var style: Style
        public var color: String
        /// A tooltip per point (`<title>`), e.g. the point's label.
        public var titles: [String]?
        /// A fill per point (a third quantity through ``SVGChart/colorBar``), instead of `color`.
        public var colors: [String]?
        public var marker: Marker

        public init(name: String, points: [RDPoint], style: Style, color: String, titles: [String]? = nil, colors: [String]? = nil,
            marker: Marker = .circle) {
            self.name = name
            self.points = points
            self.style = style
            self.color = color
            self.titles = titles
            self.colors = colors
            self.marker = marker
        }
    }

    /// A straight line across the plot, clipped to it, with a label at its end (iso-ELBO lines,
    /// D = H − R).
    public struct Reference {
        public var from: RDPoint
        public var to: RDPoint
        public var label: String
        public var color: String
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var references: [Reference] = []
    /// The scale of per-point colours and what it measures, drawn as a bar at the right.
    public var colorBar: (scale: ColorScale, label: String)?
    /// x on a log₁₀ scale, for a quantity that spans decades; points with x ≤ 0 are left out.
    public var logX = false
    public var width = 760.0
    public var height = 480.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Colours that stay apart in print and for common colour blindness (Okabe–Ito, then Tableau).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
        "#8c564b", "#7f7f7f"]

    /// Whether a point can be drawn: finite, and x > 0 on a log scale.
    func drawable(_ p: RDPoint) -> Bool { p.rate.isFinite && p.distortion.isFinite && (!logX || p.rate > 0) }

    /// x as placed on the axis: log₁₀ x on a log scale.
    func placed(_ x: Double) -> Double { logX ? log10(x) : x }

    /// The data ranges with 5 % margins, widened where the data are a single value; x in
    /// log₁₀ units on a log scale.
    func ranges() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let all = series.flatMap(\.points).filter(drawable)
        func range(_ values: [Double]) -> ClosedRange<Double> {
            guard let low = values.min(), let high = values.max() else { return 0...1 }
            let span = high - low
            let pad = span > 0 ? span * 0.05 : max(abs(low) * 0.05, 0.5)
            return (low - pad)...(high + pad)
        }
        return (range(all.map { placed($0.rate) }), range(all.map(\.distortion)))
    }

    /// Ticks of a log axis whose range is `range` in log₁₀ units: the powers of ten inside it,
    /// and 2 and 5 times them where fewer than three powers fit.
    static func logTicks(_ range: ClosedRange<Double>) -> [Double] {
        let first = Int(ceil(range.lowerBound - 1)), last = Int(floor(range.upperBound))
        guard first <= last, last - first < 400 else { return [] }
        let decades = (first...last).map { pow(10, Double($0)) }
        let inside = { (t: Double) in range.contains(log10(t)) }
        let powers = decades.filter(inside)
        return powers.count >= 3 ? powers : decades.flatMap { [$0, 2 * $0, 5 * $0] }.filter(inside)
    }

    /// Ticks at multiples of 1, 2 or 5 × 10ᵏ, about `count` of them, inside `range`. Each is
    /// an integer divided (or multiplied) by a power of ten, so 0.6 is the double nearest 0.6.
    public static func ticks(_ range: ClosedRange<Double>, count: Int = 6) -> [Double] {
        let span = range.upperBound - range.lowerBound
        let size = max(abs(range.lowerBound), abs(range.upperBound))
        guard span.isFinite, span > 1e-9 * size, span > 0 else { return [range.lowerBound] }
        let raw = span / Double(count)
        let exponent = floor(log10(raw))
        let multiple = [1.0, 2, 5, 10].first { $0 * pow(10, exponent) >= raw } ?? 10
        let step = multiple * pow(10, exponent)
        func value(_ k: Double) -> Double { exponent < 0 ? k * multiple / pow(10, -exponent) : k * multiple * pow(10, exponent) }
        let first = ceil(range.lowerBound / step - 1e-9), last = floor(range.upperBound / step + 1e-9)
        guard first <= last, last - first < 1000 else { return [range.lowerBound] }
        return stride(from: first, through: last, by: 1).map { value($0) == 0 ? 0 : value($0) }
    }

    /// A tick's label with as many decimals as the ticks' spacing (1, 2 or 5 × 10ᵏ) needs: −k.
    static func tickText(_ value: Double, step: Double) -> String {
        let decimals = step > 0 && step.isFinite ? min(12, max(0, -Int(floor(log10(step) + 1e-9)))) : 6
        let text = String(format: "%.\(decimals)f", value)
        return Double(text) == 0 ? "0" : text
    }

    /// The spacing of `ticks`.
    static func step(_ ticks: [Double]) -> Double { ticks.count > 1 ? ticks[1] - ticks[0] : 0 }

    public func svg() -> String {
        let (xr, yr) = ranges()
        let legend = series.contains { !$0.name.isEmpty } && (series.count > 1 || !references.isEmpty)
        let left = 70.0, right = width - (legend || colorBar != nil ? 230 : 20), top = 36.0, bottom = height - 52
        func x(_ v: Double) -> Double { left + (placed(v) - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * (right - left) }
        func y(_ v: Double) -> Double { bottom - (v - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * (bottom - top) }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        // ids are global in an HTML page that inlines several charts: one per title
        let clip = "clip-" + String(title.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "-" })
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>
            <defs><clipPath id="\(clip)"><rect x="\(f(left))" y="\(f(top))" width="\(f(right - left))" height="\(f(bottom - top))"/></clipPath></defs>

            """
        let xTicks = logX ? Self.logTicks(xr) : Self.ticks(xr), yTicks = Self.ticks(yr)
        for t in xTicks {
            out += "<line class=\"grid\" x1=\"\(f(x(t)))\" y1=\"\(f(top))\" x2=\"\(f(x(t)))\" y2=\"\(f(bottom))\" stroke=\"#e6e6e6\"/>"
            out += "<text x=\"\(f(x(t)))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(Self.tickText(t, step: logX ? t : Self.step(xTicks)))</text>\n"
        }
        for t in yTicks {
            out += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(right))\" y2=\"\(f(y(t)))\" stroke=\"#e6e6e6\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(Self.tickText(t, step: Self.step(yTicks)))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        out += "<g clip-path=\"url(#\(clip))\">\n"
        for reference in references where drawable(reference.from) && drawable(reference.to) {
            out += "<line class=\"reference\" x1=\"\(f(x(reference.from.rate)))\" y1=\"\(f(y(reference.from.distortion)))\" "
                + "x2=\"\(f(x(reference.to.rate)))\" y2=\"\(f(y(reference.to.distortion)))\" stroke=\"\(reference.color)\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n"
        }
        for s in series where s.style != .points {
            let path = s.points.filter(drawable).map { "\(f(x($0.rate))),\(f(y($0.distortion)))" }.joined(separator: " ")
            let dash = s.style == .dashedLine ? " stroke-dasharray=\"6 4\"" : ""
            out += "<polyline class=\"series-line\" points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"\(dash)/>\n"
        }
        for s in series where s.style == .points || s.style == .pointsAndLine {
            for (i, p) in s.points.enumerated() where drawable(p) {
                let title = s.titles.map { "<title>\(Self.escape($0[i]))</title>" } ?? ""
                out += Self.marker(s.marker, x: x(p.rate), y: y(p.distortion), size: 3.5, attributes: "class=\"point\" fill=\"\(s.colors?[i] ?? s.color)\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.6\"", content: title) + "\n"
            }
        }
        out += "</g>\n"
        var row = top + 4
        for s in series where legend && !s.name.isEmpty {
            let swatch = s.style == .points
                ? Self.marker(s.marker, x: right + 22, y: row, size: 4, attributes: "fill=\"\(s.color)\"", content: "")
                : "<line x1=\"\(f(right + 12))\" y1=\"\(f(row))\" x2=\"\(f(right + 32))\" y2=\"\(f(row))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.style == .dashedLine ? " stroke-dasharray=\"6 4\"" : "")/>"
            out += "<g class=\"legend\">\(swatch)<text x=\"\(f(right + 40))\" y=\"\(f(row + 4))\">\(Self.escape(s.name))</text></g>\n"
            row += 20
        }
        for reference in references where legend && !reference.label.isEmpty {
            out += "<g class=\"legend\"><line x1=\"\(f(right + 12))\" y1=\"\(f(row))\" x2=\"\(f(right + 32))\" y2=\"\(f(row))\" stroke=\"\(reference.color)\" stroke-dasharray=\"2 3\"/>"
                + "<text x=\"\(f(right + 40))\" y=\"\(f(row + 4))\">\(Self.escape(reference.label))</text></g>\n"
            row += 20
        }
        if let (scale, label) = colorBar {
            out += scale.bar(x: right + 20, y: row + 24, height: min(220, bottom - row - 30), label: label)
        }
        return out + "</svg>\n"
    }

    /// One marker centred at (x, y), `size` its radius (a circle's; the other shapes have about
    /// its area), with `attributes` and `content` (a `<title>`) inside.
    static func marker(_ marker: Series.Marker, x: Double, y: Double, size r: Double, attributes: String, content: String) -> String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func polygon(_ corners: [(Double, Double)]) -> String {
            "<polygon points=\"\(corners.map { "\(f(x + $0.0)),\(f(y + $0.1))" }.joined(separator: " "))\" \(attributes)>\(content)</polygon>"
        }
        switch marker {
        case .circle:
            return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" \(attributes)>\(content)</circle>"
        case .square:
            let h = r * 0.89  // π r² = (2h)²
            return "<rect x=\"\(f(x - h))\" y=\"\(f(y - h))\" width=\"\(f(2 * h))\" height=\"\(f(2 * h))\" \(attributes)>\(content)</rect>"
        case .triangle:
            let s = r * 1.35  // centroid at (x, y)
            return polygon([(0, -s), (s * 0.866, s / 2), (-s * 0.866, s / 2)])
        case .diamond:
            let d = r * 1.25
            return polygon([(0, -d), (d, 0), (0, d), (-d, 0)])
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
