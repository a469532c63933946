/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3") and the
/// mapping from its words to uniform and normal floats that every backend implements.
///
/// Element `e` of a fill with key (seed, stream) and offset `o` takes word `(e + o) % 4` of
/// the block at counter `((e + o) / 4, stream)` under key `seed`:
/// `counter = (lo32(j), hi32(j), lo32(stream), hi32(stream))`, `key = (lo32(seed), hi32(seed))`.
///
/// - uniform: `(w >> 8) · 2⁻²⁴` in [0, 1).
/// - normal: Box–Muller on the word pairs (w0, w1) and (w2, w3) of a block:
///   `r = sqrt(−2 ln u)`, `u = ((w0 >> 8) + 1) · 2⁻²⁴` in (0, 1]; the angle is the 24-bit
///   fraction of a turn in w1, and the pair is (r cos θ, r sin θ). `ln`, `cos` and `sin` are
///   the polynomials below, evaluated with explicit FMAs and no other contraction, so that
///   the CPU and an OpenCL device (built with `-cl-fp32-correctly-rounded-divide-sqrt` and
///   `FP_CONTRACT OFF`) produce the same bits.
public enum Philox {
    public static let multiplier0: UInt32 = 0xD251_1F53
    public static let multiplier1: UInt32 = 0xCD9E_8D57
    public static let weyl0: UInt32 = 0x9E37_79B9
    public static let weyl1: UInt32 = 0xBB67_AE85

    /// One Philox-4x32-10 block.
    @inlinable
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k &+= SIMD2(weyl0, weyl1)
            }
            let p0 = UInt64(multiplier0) &* UInt64(c[0])
            let p1 = UInt64(multiplier1) &* UInt64(c[2])
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0],
                UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1],
                UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// The counter of block `index` in `stream`.
    @inlinable
    public static func counter(block index: UInt64, stream: UInt64) -> SIMD4<UInt32> {
        SIMD4(
            UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
            UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
    }

    @inlinable
    public static func key(seed: UInt64) -> SIMD2<UInt32> {
        SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    /// A word as a uniform float in [0, 1).
    @inlinable
    public static func uniform(_ word: UInt32) -> Float {
        Float(word >> 8) * 0x1p-24
    }

    /// Box–Muller on two words: (r cos θ, r sin θ).
    @inlinable
    public static func normalPair(_ w0: UInt32, _ w1: UInt32) -> (Float, Float) {
        let u = Float((w0 >> 8) + 1) * 0x1p-24
        let r = (Float(-2) * log(u)).squareRoot()
        let (s, c) = sinCosTurn(w1 >> 8)
        return (r * c, r * s)
    }

    /// Natural logarithm for u in (0, 1]: u = m·2ᵉ with m in [√½, √2), ln m = 2 atanh(s),
    /// s = (m − 1)/(m + 1), |s| ≤ 0.1716, series to s¹⁵. Constants are the fp32 values,
    /// written in hex so that `Kernels/random.cl` uses the same bits.
    @inlinable
    public static func log(_ u: Float) -> Float {
        var bits = u.bitPattern
        var e = Int32((bits >> 23) & 0xFF) - 127
        bits = (bits & 0x007F_FFFF) | 0x3F80_0000
        var m = Float(bitPattern: bits)
        if m > 0x1.6a09e6p+0 {
            m = m * 0.5
            e += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p: Float = 0x1.111112p-4  // 1/15
        p = fma(p, s2, 0x1.3b13b2p-4)  // 1/13
        p = fma(p, s2, 0x1.745d18p-4)  // 1/11
        p = fma(p, s2, 0x1.c71c72p-4)  // 1/9
        p = fma(p, s2, 0x1.24924ap-3)  // 1/7
        p = fma(p, s2, 0x1.99999ap-3)  // 1/5
        p = fma(p, s2, 0x1.555556p-2)  // 1/3
        p = fma(p, s2, 1)
        let lnm = (s + s) * p
        return fma(Float(e), 0x1.62e430p-1, lnm)  // e·ln 2 + ln m
    }

    /// sin and cos of 2π·k/2²⁴ for a 24-bit k: octant from the top 3 bits (exact), then
    /// Taylor polynomials of degree 11/12 on [0, π/4] (error below 2e-9).
    @inlinable
    public static func sinCosTurn(_ k: UInt32) -> (sin: Float, cos: Float) {
        let octant = k >> 21
        var f = k & 0x1F_FFFF  // position inside the octant, 21 bits
        if octant & 1 == 1 { f = 0x20_0000 - f }  // odd octants run backwards from π/4
        let x = Float(f) * 0x1.921fb6p-22  // f · (π/4) / 2²¹
        let x2 = x * x
        var sp: Float = -0x1.ae6456p-26  // −1/11!
        sp = fma(sp, x2, 0x1.71de3ap-19)  // 1/9!
        sp = fma(sp, x2, -0x1.a01a02p-13)  // −1/7!
        sp = fma(sp, x2, 0x1.111112p-7)  // 1/5!
        sp = fma(sp, x2, -0x1.555556p-3)  // −1/3!
        let sinX = fma(sp * x2, x, x)
        var cp: Float = 0x1.1eed8ep-29  // 1/12!
        cp = fma(cp, x2, -0x1.27e4fcp-22)  // −1/10!
        cp = fma(cp, x2, 0x1.a01a02p-16)  // 1/8!
        cp = fma(cp, x2, -0x1.6c16c2p-10)  // −1/6!
        cp = fma(cp, x2, 0x1.555556p-5)  // 1/4!
        cp = fma(cp, x2, -0.5)
        let cosX = fma(cp, x2, 1)
        // angle = octant·π/4 + (odd ? π/4 − x : x), mapped back by symmetry
        switch octant {
        case 0: return (sinX, cosX)
        case 1: return (cosX, sinX)
        case 2: return (cosX, -sinX)
        case 3: return (sinX, -cosX)
        case 4: return (-sinX, -cosX)
        case 5: return (-cosX, -sinX)
        case 6: return (-cosX, sinX)
        default: return (-sinX, cosX)
        }
    }

    @inlinable
    static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { c.addingProduct(a, b) }
}
