import Foundation

/// The `main` of every fuzz target. Built by `scripts/fuzz` (`-sanitize=fuzzer,address
/// -DRDLAB_FUZZING`), it hands the entry point to libFuzzer's driver with the command line
/// (`-max_total_time=60 CORPUS …`). Built plainly, it runs the entry point on each file named on
/// the command line, or each file in each named folder — a seed corpus, or a crashing input to
/// reproduce — and says how many it ran.
public enum FuzzReplay {
    public typealias Entry = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    public static func main(_ entry: Entry) -> Never {
        #if RDLAB_FUZZING
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, entry))
        #else
        var files: [URL] = []
        for argument in CommandLine.arguments.dropFirst() {
            let url = URL(fileURLWithPath: argument)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(argument): no such file or folder\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
                files += names.sorted().map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        for file in files {
            let bytes = [UInt8]((try? Data(contentsOf: file)) ?? Data())
            _ = bytes.withUnsafeBufferPointer { entry($0.baseAddress, $0.count) }
        }
        print("\(CommandLine.arguments[0]): ran \(files.count) inputs without a crash")
        exit(0)
        #endif
    }
}

#if RDLAB_FUZZING
/// libFuzzer's driver (compiler-rt, LLVM 11 and later): parses libFuzzer's flags and fuzzes `callback`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzReplay.Entry) -> Int32
#endif
