import Foundation

/// Refuses to start when the CPU kernels were compiled for instructions this CPU lacks
/// (a binary built on an AVX-512 machine and copied elsewhere), naming the fix.
enum HostCPUCheck {
    /// The /proc/cpuinfo flags the build's `-target-cpu` needs, if any.
    static var requiredFlags: (level: String, flags: [String])? {
        #if RDLAB_CPU_TARGET_SKYLAKE_AVX512
        return ("skylake-avx512", ["avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"])
        #elseif RDLAB_CPU_TARGET_HASWELL
        return ("haswell", ["avx2", "fma"])
        #else
        return nil
        #endif
    }

    /// The error message, or nil when the host can run the kernels (or cannot be checked).
    static func problem(
        cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        required: (level: String, flags: [String])? = requiredFlags
    ) -> String? {
        guard let required, let info = cpuinfo,
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        let missing = required.flags.filter { !flags.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "this rdlab's CPU kernels were built for \(required.level) but this CPU lacks \(missing.joined(separator: ", ")); "
            + "rebuild here, or build with RDLAB_TARGET_CPU=haswell (AVX2) or RDLAB_TARGET_CPU=none (any x86-64)"
    }
}
