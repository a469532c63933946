// swift-tools-version: 6.1
import PackageDescription

/// An rdlab backend plugin on OpenBLAS: GEMM through `cblas_sgemm` and the three 2-D
/// convolution passes through im2col/col2im + `cblas_sgemm`; every other op runs on rdlab's
/// CPU backend (op fallback). `swift build -c release --package-path Examples/BLASBackend`
/// leaves `.build/release/libRDBLASBackend.so`, which `rdlab --backend-plugin PATH --backend blas`
/// loads (README.md).
let package = Package(
    name: "BLASBackend",
    products: [
        // `.dynamic`: a shared library that nothing links; rdlab dlopens it.
        .library(name: "RDBLASBackend", type: .dynamic, targets: ["BLASBackend"]),
    ],
    dependencies: [
        // The backend API. An out-of-tree author points this at the rdlab checkout whose binary
        // they load: the plugin must be built from the same RDCompute sources, by the same
        // Swift compiler, in the same configuration (debug/release) as that rdlab, and links its
        // libRDCompute.so (a `.dynamic` product of another package is linked dynamically), so
        // the process holds one RDCompute (docs/developer/runtime.md, "Plugins").
        .package(path: "../../Packages/RDCompute"),
    ],
    targets: [
        // OpenBLAS's CBLAS interface (`cblas_sgemm`, `openblas_get_config`, …).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "BLASBackend",
            dependencies: ["COpenBLAS", .product(name: "RDCompute", package: "RDCompute")]
        ),
        // In-process checks against naive Double references: chunk boundaries (a tiny im2col
        // budget), transposes and β, and that bad sizes throw rather than trap.
        .testTarget(name: "BLASBackendTests", dependencies: ["BLASBackend"]),
    ]
)
