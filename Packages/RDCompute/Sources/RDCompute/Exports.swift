/// `Logger` is in RDCompute's API (selection, op fallback, the plugin loader), and the process
/// must hold one copy of swift-log: the one in `libRDCompute.so`. Importing `RDCompute` brings
/// `Logging` with it, so rdlab's modules and plugins never link their own.
@_exported import Logging
