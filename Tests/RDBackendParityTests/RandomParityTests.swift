import RDCompute
import RDTestSupport
import Testing

/// Philox fills: bit-identical to the RDCompute reference on every backend, for any offset.
@Suite("Philox fills")
struct RandomParityTests {
    @Test(arguments: AvailableBackends.all, [(1001, UInt64(0)), (7, 6), (64, 4), (1, 3), (4099, 0x1_0000_0002)])
    func bitIdentical(_ target: BackendUnderTest, _ shape: (count: Int, offset: UInt64)) throws {
        let b = target.backend
        let seed: UInt64 = 0xDEAD_BEEF_1234_5678, stream: UInt64 = 0x3_0000_0001
        let uniform = try b.makeBuffer(count: shape.count)
        try b.randomUniform(uniform, seed: seed, stream: stream, offset: shape.offset + shape.offset % 2)
        let expectedUniform = Reference.philox(count: shape.count, seed: seed, stream: stream,
            offset: shape.offset + shape.offset % 2, normal: false)
        #expect(try b.download(uniform).map(\.bitPattern) == expectedUniform.map(\.bitPattern))
        let evenOffset = shape.offset - shape.offset % 2
        let normal = try b.makeBuffer(count: shape.count)
        try b.randomNormal(normal, seed: seed, stream: stream, offset: evenOffset)
        let expectedNormal = Reference.philox(count: shape.count, seed: seed, stream: stream, offset: evenOffset, normal: true)
        #expect(try b.download(normal).map(\.bitPattern) == expectedNormal.map(\.bitPattern))
    }

    @Test(arguments: AvailableBackends.all)
    func oddNormalOffsetIsRejected(_ target: BackendUnderTest) throws {
        let buffer = try target.backend.makeBuffer(count: 4)
        #expect(throws: ComputeError.self) { try target.backend.randomNormal(buffer, seed: 1, stream: 0, offset: 3) }
    }
}
