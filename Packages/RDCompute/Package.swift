// swift-tools-version: 6.1
import PackageDescription

/// RDCompute — the backend API (`Backend`, `BackendFactory`, `BackendRegistry`, buffers, the
/// op list, selection, op fallback and the plugin loader) — as one shared library,
/// `libRDCompute.so`, that the `rdlab` binary and every backend plugin link (ggml's
/// `libggml-base.so`). A process must hold one copy of these types for a plugin's backend to be
/// rdlab's `any Backend`; SwiftPM links a `.dynamic` product of another package dynamically, so
/// this is a package of its own (docs/developer/runtime.md, "The ABI rule").
///
/// swift-log's `Logger` is part of this API, so RDCompute re-exports `Logging` and carries the
/// process's one copy of it: rdlab and plugins import `RDCompute` and never link `Logging` themselves.
let package = Package(
    name: "RDCompute",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RDCompute", type: .dynamic, targets: ["RDCompute"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "RDCompute", dependencies: [.product(name: "Logging", package: "swift-log")]),
    ]
)
