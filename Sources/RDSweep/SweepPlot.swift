/// One plot of a sweep: its file name (without extension), the SVG, and the caption the report
/// prints under it (what is drawn and how to read it).
public struct SweepPlot: Sendable {
    public var name: String
    public var caption: String
    public var svg: String

    public init(name: String, caption: String, svg: String) {
        self.name = name
        self.caption = caption
        self.svg = svg
    }
}
