import RDCompute

extension BenchCase {
    /// HIT's MNIST conv layers at batch 256 (c = 16, PyTorch geometry), each pass alone. Four
    /// geometries cover every conv of both models; a transposed conv is the backward-data pass
    /// of the geometry named beside it, and its input gradient that geometry's forward:
    ///
    /// - `g1 28x28 1->16 k4 s2 p1`: qz.conv1, qy.x.conv1; px.deconv3 (16 → 1, 14 → 28)
    /// - `g2 14x14 16->16 k4 s2 p1`: qz.conv2, qy.x.conv2; px.deconv2 (7 → 14)
    /// - `g3 7x7 16->16 k4 p0`: qz.conv3, qy.zx.conv (two inputs: two such convs), qy.d.conv;
    ///   qy.z.deconv, px.deconv1 (4 → 7)
    /// - `g4 4x4 16->16 k3 p1`: the q(z₁) heads (mean, scale / variance)
    ///
    /// Per GHVAE step, forward / backward-data / backward-filter calls: g1 3/1/3, g2 3/3/3,
    /// g3 5/5/5, g4 2/2/2; per LVAE step g1 2/1/2, g2 2/2/2, g3 3/3/3, g4 2/2/2.
    static let hitConvLayers: [(String, Conv2DGeometry)] = {
        func conv(_ name: String, _ hw: Int, _ cin: Int, _ k: Int, _ s: Int, _ p: Int) -> (String, Conv2DGeometry) {
            ("hit conv \(name)", .pytorch(batch: 256, height: hw, width: hw, inChannels: cin, outChannels: 16, kernel: k,
                stride: s, padding: p))
        }
        return [
            conv("g1 28x28 1->16 k4 s2 p1", 28, 1, 4, 2, 1),
            conv("g2 14x14 16->16 k4 s2 p1", 14, 16, 4, 2, 1),
            conv("g3 7x7 16->16 k4 p0", 7, 16, 4, 1, 0),
            conv("g4 4x4 16->16 k3 p1", 4, 16, 3, 1, 1),
        ]
    }()

    static var hitConvCases: [BenchCase] {
        hitConvLayers.flatMap { name, g in
            [("fwd", ConvPass.forward), ("bwd-data", .backwardData), ("bwd-filter", .backwardFilter)].map { pass, kind in
                convCase("\(name) \(pass)", g, kind)
            }
        }
    }
}
