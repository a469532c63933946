import RDCompute

/// The fused Adam update on the CPU (same arithmetic as `Kernels/optim.cl`).
enum CPUOptim {
    static func step(_ h: AdamParameters, step: Int, parameter: UnsafeMutablePointer<Float>,
        gradient: UnsafeMutablePointer<Float>, firstMoment: UnsafeMutablePointer<Float>,
        secondMoment: UnsafeMutablePointer<Float>, count: Int) {
        let (stepSize, secondScale) = h.corrections(step: step)
        Parallel.forEachRange(count, grain: 1 << 14) { range, _ in
            for i in range {
                let g = gradient[i] + h.weightDecay * parameter[i]
                let m = h.beta1 * firstMoment[i] + (1 - h.beta1) * g
                let v = h.beta2 * secondMoment[i] + (1 - h.beta2) * g * g
                firstMoment[i] = m
                secondMoment[i] = v
                parameter[i] -= stepSize * m / ((v * secondScale).squareRoot() + h.epsilon)
            }
        }
    }
}
