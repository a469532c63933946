import COpenBLAS

/// What the OpenBLAS this library runs against says about itself.
///
/// `openblas_get_config()` reads like `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`;
/// the second word is the version. `openblas_get_num_threads()` is the size of its thread pool
/// (`OPENBLAS_NUM_THREADS`, else every core); `openblas_get_corename()` the kernel set it chose.
enum OpenBLASInfo {
    /// The whole configuration string.
    static var config: String {
        openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
    }

    /// `0.3.21`, or `unknown` when the configuration string does not start with `OpenBLAS <version>`.
    static var version: String {
        let words = config.split(separator: " ")
        return words.count >= 2 && words[0] == "OpenBLAS" ? String(words[1]) : "unknown"
    }

    static var threads: Int { max(1, Int(openblas_get_num_threads())) }

    /// `Haswell`, `SkylakeX`, … (the kernels picked for this CPU).
    static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }
}
