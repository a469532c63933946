import RDCompute

extension KernelFamily {
    static let random = KernelFamily(name: "random", kernels: ["random_uniform", "random_normal"],
        options: { _ in ["-cl-fp32-correctly-rounded-divide-sqrt"] })
}

extension OpenCLBackend {
    public func randomUniform(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try fillRandom("random_uniform", buffer, seed: seed, stream: stream, offset: offset)
    }

    public func randomNormal(_ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        try OpValidation.randomOffset(offset)
        try fillRandom("random_normal", buffer, seed: seed, stream: stream, offset: offset)
    }

    /// One work item per Philox block that overlaps `offset ..< offset + count`.
    private func fillRandom(_ kernel: String, _ buffer: DeviceBuffer, seed: UInt64, stream: UInt64, offset: UInt64) throws {
        guard buffer.count > 0 else { return }
        let blocks = Int((offset + UInt64(buffer.count) + 3) / 4 - offset / 4)
        let key = Philox.key(seed: seed)
        try launchElementwise(kernel, count: blocks, [
            .buffer(buffer), .int(buffer.count), .uint2(key[0], key[1]),
            .uint2(UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)), .ulong(offset),
        ])
    }
}
