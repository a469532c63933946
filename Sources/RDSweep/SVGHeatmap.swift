import Foundation

/// A grid of cells coloured by a value, over the values of two axes (HIT Fig. 3: a quantity
/// over the (β₁, β₂) grid). Cells are in the axes' order, so a log-spaced axis reads evenly;
/// a missing point is grey; small grids print the value in each cell.
public struct SVGHeatmap {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var valueLabel: String
    public var xValues: [String]
    /// Bottom to top.
    public var yValues: [String]
    /// `cells[row][column]`, rows as `yValues`, columns as `xValues`.
    public var cells: [[Double?]]

    public init(title: String, xLabel: String, yLabel: String, valueLabel: String, xValues: [String], yValues: [String], cells: [[Double?]]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.xValues = xValues
        self.yValues = yValues
        self.cells = cells
    }

    /// An axis value as the axis prints it: a number to three significant digits (a log axis's
    /// 0.125893 as 0.126), anything else as it is. Cells' tooltips keep the whole label.
    static func shortLabel(_ label: String) -> String {
        Double(label).map { String(format: "%.3g", $0) } ?? label
    }

    public func svg() -> String {
        let width = 640.0, height = 520.0
        let left = 90.0, right = width - 110, top = 40.0, bottom = height - 70
        let scale = ColorScale(cells.flatMap { $0.compactMap { $0 } })
        let cw = (right - left) / Double(max(xValues.count, 1)), ch = (bottom - top) / Double(max(yValues.count, 1))
        let printValues = xValues.count <= 12 && yValues.count <= 12
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(SVGChart.escape(title))</text>

            """
        for (r, row) in cells.enumerated() {
            for (c, value) in row.enumerated() {
                let x = left + Double(c) * cw, y = bottom - Double(r + 1) * ch
                out += String(format: "<rect class=\"cell\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"><title>%@ %@, %@ %@: %@</title></rect>",
                    x, y, cw, ch, scale.color(value), SVGChart.escape(xLabel), xValues[c], SVGChart.escape(yLabel), yValues[r],
                    value.map { String(format: "%.4g", $0) } ?? "missing")
                if printValues, let value {
                    let dark = (value - scale.range.lowerBound) / (scale.range.upperBound - scale.range.lowerBound) < 0.6
                    out += String(format: "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"10\" fill=\"%@\">%@</text>",
                        x + cw / 2, y + ch / 2 + 4, dark ? "white" : "black", String(format: "%.3g", value))
                }
                out += "\n"
            }
        }
        // every k-th label, k such that labels (about 7 px a character at 12 px) do not overlap
        let xLabels = xValues.map(Self.shortLabel), yLabels = yValues.map(Self.shortLabel)
        let widest = Double(xLabels.map(\.count).max() ?? 1) * 7 + 6
        let every = max(1, Int(ceil(widest / cw))), everyY = max(1, Int(ceil(16 / ch)))
        for (c, label) in xLabels.enumerated() where c % every == 0 {
            out += String(format: "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%@</text>\n", left + (Double(c) + 0.5) * cw, bottom + 16,
                SVGChart.escape(label))
        }
        for (r, label) in yLabels.enumerated() where r % everyY == 0 {
            out += String(format: "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%@</text>\n", left - 6, bottom - (Double(r) + 0.5) * ch + 4,
                SVGChart.escape(label))
        }
        out += "<text x=\"\((left + right) / 2)\" y=\"\(height - 30)\" text-anchor=\"middle\" font-size=\"13\">\(SVGChart.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(20 \((top + bottom) / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(SVGChart.escape(yLabel))</text>\n"
        out += scale.bar(x: right + 16, y: top + 20, height: bottom - top - 20, label: valueLabel)
        return out + "</svg>\n"
    }
}
