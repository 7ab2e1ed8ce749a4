import Foundation

extension Optional where Wrapped == String {
    /// The string, or JSON null.
    var json: JSONValue { map(JSONValue.string) ?? .null }
}
