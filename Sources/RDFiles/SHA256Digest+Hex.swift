import Crypto

extension SHA256Digest {
    /// The digest as 64 lowercase hexadecimal digits, as `sha256sum` prints it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 2 * Self.byteCount) { text in
            for (offset, byte) in enumerated() {
                text[2 * offset] = digits[Int(byte >> 4)]
                text[2 * offset + 1] = digits[Int(byte & 0x0F)]
            }
            return 2 * Self.byteCount
        }
    }
}
