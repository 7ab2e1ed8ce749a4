/// A priority from 1 (lowest) to 100 (highest), default 50; names are accepted on input (SPEC 2.5).
public struct Priority: Sendable, Hashable, Comparable, Codable {
    public static let range = 1...100
    public static let `default` = Priority(uncheckedValue: 50)

    /// The accepted names and their values.
    public static let aliases: KeyValuePairs<String, Int> = [
        "CRITICAL": 100, "HIGH": 75, "MEDIUM": 50, "LOW": 25, "BACKGROUND": 10,
    ]

    public let value: Int

    /// A priority from a number in 1...100, or `VALIDATION_ERROR` on `field`.
    public init(_ value: Int, field: String = "priority") throws(DocketError) {
        guard Priority.range.contains(value) else {
            throw .validation(field: field, "must be between 1 and 100, got \(value)")
        }
        self.value = value
    }

    /// A priority from a wire value: an integer 1...100 or a name (case-insensitive).
    public init(json: JSONValue, field: String = "priority") throws(DocketError) {
        switch json {
        case .number(let number):
            guard number.rounded() == number, let whole = Int(exactly: number) else {
                throw .validation(field: field, "must be a whole number, got \(number)")
            }
            try self.init(whole, field: field)
        case .string(let name):
            guard let match = Priority.aliases.first(where: { $0.key == name.uppercased() }) else {
                throw .validation(field: field, "unknown priority name \"\(name)\"; known: "
                    + Priority.aliases.map(\.key).joined(separator: ", "))
            }
            self.init(uncheckedValue: match.value)
        default:
            throw .validation(field: field, "must be a number 1–100 or a name such as HIGH")
        }
    }

    private init(uncheckedValue: Int) { self.value = uncheckedValue }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.value < rhs.value }
}
