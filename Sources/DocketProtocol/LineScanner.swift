/// Splits a byte stream into `\n`-terminated lines of at most `maxLength` bytes, never holding more than that of one
/// line: the framing of SPEC 3.1 as pure code (the NIO decoder feeds it; the fuzzer drives it directly).
///
/// A line past the limit is reported once as `.tooLong` and its bytes are dropped as they arrive, up to its newline.
/// A trailing `\r` is dropped from a line.
public struct LineScanner: Sendable {
    /// What to do with the start of the bytes not yet consumed.
    public enum Step: Sendable, Equatable {
        /// A line: its bytes are `[0, length)` (without `\r`); consume `consumed` bytes (the newline included).
        case line(length: Int, consumed: Int)
        /// A line longer than the limit began: report it once, consume `consumed` bytes.
        case tooLong(consumed: Int)
        /// Drop `consumed` bytes of a line being skipped (nothing to report).
        case skip(consumed: Int)
        /// Nothing more until more bytes arrive.
        case needMoreData
    }

    public let maxLength: Int
    private var skipping = false
    /// How many of the pending bytes were already looked at for a newline.
    private var scanned = 0

    public init(maxLength: Int) { self.maxLength = maxLength }

    /// The next step over `pending` (the unconsumed bytes, oldest first); the caller consumes what it says.
    public mutating func next(_ pending: some Collection<UInt8>) -> Step {
        let count = pending.count
        let start = min(scanned, count)
        if let newline = pending.dropFirst(start).firstIndex(of: UInt8(ascii: "\n")) {
            let length = pending.distance(from: pending.startIndex, to: newline)
            scanned = 0
            if skipping {
                skipping = false
                return .skip(consumed: length + 1)
            }
            guard length <= maxLength else { return .tooLong(consumed: length + 1) }
            let endsWithReturn = length > 0 && pending[pending.index(pending.startIndex, offsetBy: length - 1)] == UInt8(ascii: "\r")
            return .line(length: endsWithReturn ? length - 1 : length, consumed: length + 1)
        }
        scanned = count
        guard skipping || count > maxLength else { return .needMoreData }
        scanned = 0
        if skipping { return count > 0 ? .skip(consumed: count) : .needMoreData }
        skipping = true
        return .tooLong(consumed: count)
    }

    /// At the end of the stream: a last line without its newline is a line too, unless it was being skipped.
    public mutating func finish(_ pending: some Collection<UInt8>) -> Step {
        defer { skipping = false; scanned = 0 }
        guard !pending.isEmpty else { return .needMoreData }
        return skipping ? .skip(consumed: pending.count) : .line(length: pending.count, consumed: pending.count)
    }
}
