import RDCompute

/// The fused Adam update on the CPU (same arithmetic as `Kernels/optim.cl`).
enum CPUOptim {
    static func step(_ h: AdamParameters, step: Int, parameter: UnsafeMutablePointer<Float>,
        gradient: UnsafeMutablePointer<Float>, firstMoment: UnsafeMutablePointer<Float>,
        secondMoment: UnsafeMutablePointer<Float>, count: Int) {
        let (stepSize, secondScale) = h.corrections(step: step)
        Parallel.forEachRange(count, grain: 1 << 14, AdamUpdate(h: h, stepSize: stepSize, secondScale: secondScale,
            parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment))
    }

    /// Adam's update of a range of parameters and their moments.
    struct AdamUpdate: ParallelLoopBody {
        let h: AdamParameters
        let stepSize, secondScale: Float
        let parameter, gradient, firstMoment, secondMoment: UnsafeMutablePointer<Float>

        func callAsFunction(_ range: Range<Int>, _ worker: Int) {
            var i = range.lowerBound
            // 16 lanes at a time (the pointers may alias as far as the compiler knows, so it
            // would not vectorise), then the same arithmetic per float: results are identical.
            while i &+ 16 <= range.upperBound {
                let p = load16(parameter + i)
                let (m, v, update) = update(h, stepSize: SIMD16(repeating: stepSize),
                    secondScale: SIMD16(repeating: secondScale), parameter: p, gradient: load16(gradient + i),
                    firstMoment: load16(firstMoment + i), secondMoment: load16(secondMoment + i))
                store16(m, firstMoment + i)
                store16(v, secondMoment + i)
                store16(p - update, parameter + i)
                i &+= 16
            }
            while i < range.upperBound {
                let (m, v, update) = update(h, stepSize: SIMD16(repeating: stepSize),
                    secondScale: SIMD16(repeating: secondScale), parameter: SIMD16(repeating: parameter[i]),
                    gradient: SIMD16(repeating: gradient[i]), firstMoment: SIMD16(repeating: firstMoment[i]),
                    secondMoment: SIMD16(repeating: secondMoment[i]))
                firstMoment[i] = m[0]
                secondMoment[i] = v[0]
                parameter[i] -= update[0]
                i &+= 1
            }
        }
    }

    /// New moments and the parameter's decrement, lane by lane.
    @inline(__always)
    private static func update(_ h: AdamParameters, stepSize: SIMD16<Float>, secondScale: SIMD16<Float>,
        parameter: SIMD16<Float>, gradient: SIMD16<Float>, firstMoment: SIMD16<Float>, secondMoment: SIMD16<Float>)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let g = gradient + h.weightDecay * parameter
        let m = h.beta1 * firstMoment + (1 - h.beta1) * g
        let v = h.beta2 * secondMoment + (1 - h.beta2) * g * g
        return (m, v, stepSize * m / ((v * secondScale).squareRoot() + h.epsilon))
    }
}

// MARK: Optimiser on the CPU backend

extension CPUBackend {
    public func adamStep(_ parameters: AdamParameters, step: Int, parameter: DeviceBuffer, gradient: DeviceBuffer,
        firstMoment: DeviceBuffer, secondMoment: DeviceBuffer) throws {
        try OpValidation.adam(step: step, parameter, gradient, firstMoment, secondMoment)
        CPUOptim.step(parameters, step: step, parameter: try pointer(parameter), gradient: try pointer(gradient),
            firstMoment: try pointer(firstMoment), secondMoment: try pointer(secondMoment), count: parameter.count)
    }
}
