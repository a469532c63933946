import RDCompute

extension KernelFamily {
    static let echo = KernelFamily(name: "echo", kernels: ["echo_forward", "echo_backward_rows", "echo_backward_gather"])
}

extension OpenCLBackend {
    public func makeIndexBuffer(_ words: [Int32]) throws -> DeviceBuffer {
        let buffer = try makeBuffer(count: words.count)
        try words.withUnsafeBytes { try uploadBytes($0, to: buffer) }
        return buffer
    }

    /// s = exp(log s) once per call (B·D exponentials instead of one per term).
    func exponential(_ logScale: DeviceBuffer, _ shape: EchoShape) throws -> DeviceBuffer {
        let scale = try makeBuffer(count: shape.count)
        try unary(.exp, logScale, output: scale)
        return scale
    }

    /// Items (j, i) over D latents × B examples; groups of up to 64 consecutive latents.
    func launchEcho(_ name: String, _ shape: EchoShape, _ arguments: [Argument]) throws {
        var local = 1
        while local < min(shape.dimensions, groupSize(name, cap: 64)) { local *= 2 }
        let columns = (shape.dimensions + local - 1) / local * local
        try launch(name, global: [columns, shape.batch], local: [local, 1],
            arguments + [.int(shape.batch), .int(shape.dimensions), .int(shape.terms)])
    }

    public func echoForward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, z: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoForward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (z, "z"))
        let scale = try exponential(logScale, shape)
        try launchEcho("echo_forward", shape, [.buffer(f), .buffer(scale), .buffer(indices), .buffer(noise), .buffer(z)])
    }

    /// Two passes: per-example contributions into `[B, d, D]` scratch, then a gather per member.
    public func echoBackward(_ shape: EchoShape, f: DeviceBuffer, logScale: DeviceBuffer, indices: DeviceBuffer,
        noise: DeviceBuffer, gradZ: DeviceBuffer, gradF: DeviceBuffer, gradLogScale: DeviceBuffer) throws {
        try OpValidation.echo(shape, op: "echoBackward", indices: indices, (f, "f"), (logScale, "logScale"),
            (noise, "noise"), (gradZ, "gradZ"), (gradF, "gradF"), (gradLogScale, "gradLogScale"))
        let contributions = max(1, shape.batch * shape.terms * shape.dimensions)
        let cf = try makeBuffer(count: contributions), cls = try makeBuffer(count: contributions)
        let scale = try exponential(logScale, shape)
        try launchEcho("echo_backward_rows", shape,
            [.buffer(f), .buffer(scale), .buffer(indices), .buffer(gradZ), .buffer(cf), .buffer(cls)])
        try launchEcho("echo_backward_gather", shape, [.buffer(scale), .buffer(noise), .buffer(gradZ), .buffer(indices),
            .buffer(cf), .buffer(cls), .buffer(gradF), .buffer(gradLogScale)])
    }
}
