/// The deterministic test data and `nmse` live with the parity cases in RDParity; every test
/// target that imports RDTestSupport sees them.
@_exported import RDParity
