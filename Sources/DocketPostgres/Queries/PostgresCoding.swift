import DocketCore
import Foundation
import PostgresNIO

// JSON values travel as jsonb through PostgresNIO's Codable support.
extension JSONValue: PostgresCodable {}

extension Money {
    /// An amount read from a `numeric` column (decoded exactly as `Decimal`).
    init(column value: Decimal, field: String) throws {
        var decimal = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &decimal, Money.scale, .plain)
        try self.init(NSDecimalNumber(decimal: rounded).stringValue, field: field)
    }
}

extension Date {
    /// This time at the precision it will have after a round trip through a `timestamptz` column (microseconds, as
    /// PostgresNIO encodes and decodes it), so a value written and the value read back compare equal.
    public var storedPrecision: Date {
        let start = Date(timeIntervalSince1970: 946_684_800)
        var current = self
        for _ in 0..<8 {
            let micros = Int64(current.timeIntervalSince(start) * 1_000_000)
            let next = Date(timeInterval: Double(micros) / 1_000_000, since: start)
            if next == current { break }
            current = next
        }
        return current
    }
}
