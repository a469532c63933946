import RDCompute

extension KernelFamily {
    static let optim = KernelFamily(name: "optim", kernels: ["adam_step"])
}

extension OpenCLBackend {
    public func adamStep(_ h: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        try OpValidation.adam(step: step, parameter, gradient, firstMoment, secondMoment)
        let (stepSize, secondScale) = h.corrections(step: step)
        try launchElementwise("adam_step", count: parameter.count, [
            .buffer(parameter), .buffer(gradient), .buffer(firstMoment), .buffer(secondMoment), .float(stepSize),
            .float(h.beta1), .float(h.beta2), .float(h.epsilon), .float(h.weightDecay), .float(secondScale),
            .int(parameter.count),
        ])
    }
}
