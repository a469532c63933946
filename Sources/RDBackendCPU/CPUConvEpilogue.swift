import RDCompute

/// What a CPU convolution pass does to each part of its output as soon as it has written it
/// (whole pixels, channels last), while the part is still in cache: the epilogue of
/// ``CPUBackend/conv2dFused(_:pass:input:filter:epilogue:output:)``. The paths that write an
/// image or a tile at a time call ``finish(_:)`` on it; the others finish the whole output
/// after the pass (``finishAll(pixels:)``).
protocol ConvOutputEpilogue {
    /// Finishes output pixels `pixels` (indices over the batch: image n's pixel p is n·H·W + p).
    func finish(_ pixels: Range<Int>)
}

extension ConvOutputEpilogue {
    /// Finishes every one of an output's `pixels`, in parallel: for a pass that wrote them all first.
    func finishAll(pixels: Int) {
        if self is NoEpilogue { return }
        Parallel.forEachRange(pixels, grain: 256, FinishedPixels(epilogue: self))
    }
}

/// A plain pass.
struct NoEpilogue: ConvOutputEpilogue {
    @inline(__always) func finish(_ pixels: Range<Int>) {}
}

/// `y ← max(y + bias[c], 0)`: the arithmetic of ``CPUBackend/biasReLU(_:bias:output:)``, in place.
struct BiasReLUEpilogue: ConvOutputEpilogue {
    let output, bias: UnsafeMutablePointer<Float>
    let channels: Int

    func finish(_ pixels: Range<Int>) {
        CPUElementwise.BiasRows(x: output, bias: bias, output: output, channels: channels,
            vectorEnd: channels & ~15, relu: true)(pixels, 0)
    }
}

/// `y ← activation > 0 ? y : 0`: the input gradient of ``CPUBackend/biasReLUBackward(output:gradOutput:gradInput:gradBias:)``, in place.
struct ReLUGateEpilogue: ConvOutputEpilogue {
    let output, activation: UnsafeMutablePointer<Float>
    let channels: Int

    func finish(_ pixels: Range<Int>) {
        for i in (pixels.lowerBound &* channels)..<(pixels.upperBound &* channels) {
            output[i] = activation[i] > 0 ? output[i] : 0
        }
    }
}

/// Pixel ranges of an output, finished.
struct FinishedPixels<Epilogue: ConvOutputEpilogue>: ParallelLoopBody {
    let epilogue: Epilogue

    func callAsFunction(_ pixels: Range<Int>, _ worker: Int) { epilogue.finish(pixels) }
}

// MARK: The fused op on the CPU backend

extension CPUBackend {
    public func conv2dFused(_ g: Conv2DGeometry, pass: Conv2DImagePass, input: DeviceBuffer, filter: DeviceBuffer,
        epilogue: ConvEpilogue, output: DeviceBuffer) throws {
        try OpValidation.convFused(g, pass: pass, input: input, filter: filter, epilogue: epilogue, output: output)
        let (x, w, y) = (try pointer(input), try pointer(filter), try pointer(output))
        let channels = pass.outputChannels(g)
        func run<E: ConvOutputEpilogue>(_ e: E) {
            switch pass {
            case .forward: CPUConv.forward(g, input: x, filter: w, output: y, epilogue: e)
            case .backwardData: CPUConv.backwardData(g, gradOutput: x, filter: w, gradInput: y, epilogue: e)
            }
        }
        switch epilogue {
        case .biasReLU(let bias):
            run(BiasReLUEpilogue(output: y, bias: try pointer(bias), channels: channels))
        case .reluGate(let activation):
            run(ReLUGateEpilogue(output: y, activation: try pointer(activation), channels: channels))
        }
    }
}
