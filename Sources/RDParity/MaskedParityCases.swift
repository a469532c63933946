import Foundation
import RDCompute


/// Masked dense (MADE) forward and backward against `x·(W ⊙ M) + b` in Double.
extension ParityCase {
    public static let maskedShapes: [MaskedDenseShape] = {
        func made(_ batch: Int, _ input: [Int], _ output: [Int]) -> MaskedDenseShape {
            try! MaskedDenseShape(batch: batch, inputDegrees: input, outputDegrees: output)
        }
        let d5 = MaskedDenseShape.madeInputDegrees(5)
        return [
            made(3, d5, try! MaskedDenseShape.madeHiddenDegrees(units: 10, dimensions: 5)),  // input → hidden, degree-0 units see nothing
            made(9, try! MaskedDenseShape.madeHiddenDegrees(units: 40, dimensions: 4),
                try! MaskedDenseShape.madeHiddenDegrees(units: 40, dimensions: 4)),  // hidden → hidden, batch not a multiple of 8
            made(1, try! MaskedDenseShape.madeHiddenDegrees(units: 12, dimensions: 3),
                MaskedDenseShape.madeOutputDegrees(dimensions: 3, perDimension: 2)),  // hidden → 2 interleaved outputs per variable
            made(17, try! MaskedDenseShape.madeHiddenDegrees(units: 70, dimensions: 7),
                try! MaskedDenseShape.madeHiddenDegrees(units: 70, dimensions: 7)),  // partial 32-wide panels
            made(4, [0, 0, 1, 3, 3, 3, 7], [0, 2, 2, 5, 9]),  // arbitrary nondecreasing degrees
        ]
    }()

    public static var maskedCases: [ParityCase] {
        maskedShapes.enumerated().flatMap { index, s in
            [
                ParityCase(.maskedDenseForward, name: "masked dense forward \(s)", tolerance: accumulating) { backend in
                    let v = MaskedInputs(s, seed: UInt64(700 + index))
                    let y = try backend.makeBuffer(v.gy)  // overwritten
                    try backend.maskedDenseForward(s, x: try backend.makeBuffer(v.x), weight: try backend.makeBuffer(v.w),
                        bias: try backend.makeBuffer(v.b), output: y)
                    return (try backend.download(y), Reference.maskedDenseForward(s, v))
                },
                ParityCase(.maskedDenseBackward, name: "masked dense backward \(s)", tolerance: accumulating) { backend in
                    let v = MaskedInputs(s, seed: UInt64(800 + index))
                    let dx = try backend.makeBuffer(v.x), dw = try backend.makeBuffer(v.w), db = try backend.makeBuffer(v.b)
                    try backend.maskedDenseBackward(s, x: try backend.makeBuffer(v.x), weight: try backend.makeBuffer(v.w),
                        gradOutput: try backend.makeBuffer(v.gy), gradInput: dx, gradWeight: dw, gradBias: db)
                    let r = Reference.maskedDenseBackward(s, v)
                    return (try backend.download(dx) + backend.download(dw) + backend.download(db), r.x + r.w + r.b)
                },
            ]
        }
    }
}

/// Random x, W (masked entries nonzero too: the op must ignore them), b and upstream gradient.
public struct MaskedInputs {
    public let x: [Float], w: [Float], b: [Float], gy: [Float]

    public init(_ s: MaskedDenseShape, seed: UInt64) {
        var data = TestData(seed: seed)
        x = data.values(s.batch * s.inputs)
        w = data.values(s.inputs * s.outputs)
        b = data.values(s.outputs)
        gy = data.values(s.batch * s.outputs)
    }
}

extension Reference {
    public static func maskedDenseForward(_ s: MaskedDenseShape, _ v: MaskedInputs) -> [Double] {
        (0..<(s.batch * s.outputs)).map { e in
            let (b, o) = (e / s.outputs, e % s.outputs)
            var acc = Double(v.b[o])
            for i in 0..<s.inputs where s.connects(input: i, output: o) {
                acc += Double(v.x[b * s.inputs + i]) * Double(v.w[i * s.outputs + o])
            }
            return acc
        }
    }

    public static func maskedDenseBackward(_ s: MaskedDenseShape, _ v: MaskedInputs) -> (x: [Double], w: [Double], b: [Double]) {
        var dx = [Double](repeating: 0, count: s.batch * s.inputs), dw = [Double](repeating: 0, count: s.inputs * s.outputs)
        var db = [Double](repeating: 0, count: s.outputs)
        for b in 0..<s.batch {
            for o in 0..<s.outputs {
                let g = Double(v.gy[b * s.outputs + o])
                db[o] += g
                for i in 0..<s.inputs where s.connects(input: i, output: o) {
                    dx[b * s.inputs + i] += g * Double(v.w[i * s.outputs + o])
                    dw[i * s.outputs + o] += g * Double(v.x[b * s.inputs + i])
                }
            }
        }
        return (dx, dw, db)
    }
}
