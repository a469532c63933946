import Crypto

extension SHA256Digest {
    /// The digest as 64 lowercase hexadecimal digits, as `sha256sum` prints it.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
