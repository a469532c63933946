import Foundation
import RDCompute

/// A kernel family: one `Kernels/<name>.cl` file, the kernels its launcher calls, and its own
/// build options; each is declared beside its launcher (`GemmLauncher.swift`: `.gemm`).
struct KernelFamily: Hashable, Sendable {
    let name: String
    let kernels: [String]
    /// Options beyond `-cl-std=CL1.2` on a device whose GEMM tile is given (`-D TS=… -D WPT=…`).
    let options: @Sendable (GemmTile) -> [String]

    init(name: String, kernels: [String], options: @escaping @Sendable (GemmTile) -> [String] = { _ in [] }) {
        self.name = name
        self.kernels = kernels
        self.options = options
    }

    /// The options `clBuildProgram` gets for this family on a device with `tile`.
    func buildOptions(tile: GemmTile) -> String {
        (["-cl-std=CL1.2"] + options(tile)).joined(separator: " ")
    }

    static func == (lhs: KernelFamily, rhs: KernelFamily) -> Bool { lhs.name == rhs.name }
    func hash(into hasher: inout Hasher) { hasher.combine(name) }

    static let all: [KernelFamily] = [.elementwise, .reduce, .loss, .random, .optim, .gemm, .conv, .echo, .masked]
}

/// Where kernel sources come from: embedded in the binary at build time, or read from
/// `RDLAB_KERNEL_DIR` for kernel development.
enum KernelSource {
    /// The source text of `family`, from `directory` when given.
    static func text(of family: KernelFamily, directory: URL?) throws -> String {
        if let directory {
            let url = directory.appendingPathComponent("\(family.name).cl")
            do {
                return try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw ComputeError.noDevice(backend: "opencl",
                    reason: "cannot read kernel source \(url.path) (RDLAB_KERNEL_DIR): \(error.localizedDescription)")
            }
        }
        return String(decoding: embedded(family.name), as: UTF8.self)
    }

    static func embedded(_ name: String) -> [UInt8] {
        switch name {
        case "conv": PackageResources.conv_cl
        case "echo": PackageResources.echo_cl
        case "elementwise": PackageResources.elementwise_cl
        case "gemm": PackageResources.gemm_cl
        case "loss": PackageResources.loss_cl
        case "masked": PackageResources.masked_cl
        case "optim": PackageResources.optim_cl
        case "random": PackageResources.random_cl
        case "reduce": PackageResources.reduce_cl
        default: []
        }
    }
}
