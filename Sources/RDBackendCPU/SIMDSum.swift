extension SIMD16 where Scalar == Float {
    /// The sum of the lanes as a tree of halving vector adds (`sum()` reduces lane by lane).
    @inline(__always)
    var horizontalSum: Float {
        let eight = lowHalf + highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}
