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

/// 16 floats from `p` (any alignment).
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

/// Writes 16 floats at `p` (any alignment).
@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }

extension SIMD16 where Scalar == Float {
    /// eˣ per lane (Cephes' expf: x = n·ln 2 + r, a degree-6 polynomial in r, then 2ⁿ through
    /// the exponent bits), within ~2 ulp of `Foundation.exp` for x ∈ [−87.3, 88.7]; inputs
    /// beyond are clamped there (FLT_MIN … FLT_MAX). Only adds, multiplies, min/max and bit
    /// operations, so the loop vectorises (rounding goes through the 1.5·2²³ trick).
    @inline(__always)
    static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = pointwiseMin(pointwiseMax(x, SIMD16(repeating: -87.3365)), SIMD16(repeating: 88.7228))
        let magic = SIMD16<Float>(repeating: 12_582_912)  // 1.5·2²³: adding it rounds to an integer
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let k = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 0.166_666_65
        p = p * r + 0.500_000_01
        let y = p * (r * r) + r + 1
        // 2ⁿ in two factors, so that n = 128 (x near 88.7) and n = −126 stay normal floats
        let half = k &>> 1
        func power(_ e: SIMD16<Int32>) -> SIMD16<Float> { unsafeBitCast((e &+ 127) &<< 23, to: SIMD16<Float>.self) }
        return y * power(half) * power(k &- half)
    }

    /// The logistic function per lane, in the stable form e/(1 + e) or 1/(1 + e), e = e^(−|x|),
    /// chosen by the sign bit.
    @inline(__always)
    static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        let e = exp(unsafeBitCast(bits | Int32.min, to: SIMD16<Float>.self))  // −|x|
        let positive = 1 / (1 + e)
        let negative = unsafeBitCast(bits &>> 31, to: SIMD16<UInt32>.self)  // all ones where x < 0
        let chosen = (unsafeBitCast(e * positive, to: SIMD16<UInt32>.self) & negative)
            | (unsafeBitCast(positive, to: SIMD16<UInt32>.self) & ~negative)
        return unsafeBitCast(chosen, to: SIMD16<Float>.self)
    }
}

/// Applies `lanes` to 16 floats at a time of `range` and `scalar` to the tail.
@inline(__always)
func forEachLanes(_ range: Range<Int>, lanes: (Int) -> Void, scalar: (Int) -> Void) {
    var i = range.lowerBound
    while i + 16 <= range.upperBound {
        lanes(i)
        i += 16
    }
    while i < range.upperBound {
        scalar(i)
        i += 1
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Room for `count` floats starting on a 64-byte boundary, so that 16-float vectors at
    /// multiples of 16 floats never straddle two cache lines (which costs a second L1 access
    /// per load). Free it with `deallocate()`.
    static func allocateVectors(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }
}
