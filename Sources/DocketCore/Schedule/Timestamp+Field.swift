import Foundation

extension Timestamp {
    /// Parses a wire time field or throws `VALIDATION_ERROR` naming it.
    public static func parse(_ value: JSONValue, field: String) throws(DocketError) -> Date {
        guard case .string(let text) = value, let date = parse(text) else {
            throw .validation(field: field, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z")
        }
        return date
    }
}
