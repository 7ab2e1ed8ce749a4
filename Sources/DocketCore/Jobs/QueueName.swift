/// What a job's `queue` and `kind` may be (docs/protocol.md, "Jobs").
public enum QueueName {
    /// 1–100 characters of `a-z 0-9 _ . -`.
    public static func validate(_ name: String, field: String) throws(DocketError) -> String {
        guard (1...100).contains(name.utf8.count), name.utf8.allSatisfy(isAllowed) else {
            throw .validation(field: field, "a queue name is 1–100 characters of a-z 0-9 _ . -, got \"\(name.prefix(120))\"")
        }
        return name
    }

    /// 1–200 characters.
    public static func validateKind(_ kind: String, field: String) throws(DocketError) -> String {
        guard !kind.isEmpty, kind.count <= 200 else { throw .validation(field: field, "a kind is 1–200 characters") }
        return kind
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"): true
        default: false
        }
    }
}
