/// An exact, non-negative amount of money in millionths of a unit: never a floating-point number.
///
/// Wire form is a decimal string (`"15.00"`, `"0.30"`): at least two fraction digits, at most six.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Fraction digits kept.
    public static let scale = 6
    static let unitsPerWhole: Int64 = 1_000_000
    public static let zero = Money(micros: 0)
    /// Whole-unit digits accepted: keeps amounts within `numeric(20,6)` and sums far from Int64's limit.
    public static let maxWholeDigits = 12

    /// The amount in millionths.
    public let micros: Int64

    public init(micros: Int64) { self.micros = micros }

    /// Parses a decimal string (`"12"`, `"0.10"`, `"3.141593"`), or `VALIDATION_ERROR` on `field`.
    public init(_ text: String, field: String) throws(DocketError) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              parts.count == 1 || !fraction.isEmpty else {
            throw .validation(field: field, "must be a non-negative decimal string such as \"15.00\", got \"\(text)\"")
        }
        guard fraction.count <= Money.scale else {
            throw .validation(field: field, "at most \(Money.scale) decimal places, got \"\(text)\"")
        }
        let padded = fraction + String(repeating: "0", count: Money.scale - fraction.count)
        guard whole.count <= Money.maxWholeDigits, let units = Int64(whole), let fractionUnits = Int64(padded) else {
            throw .validation(field: field, "too large: \"\(text)\"")
        }
        self.micros = units * Money.unitsPerWhole + fractionUnits
    }

    /// The wire form: at least two fraction digits, trailing zeros beyond them dropped.
    public var description: String {
        let whole = micros / Money.unitsPerWhole
        var fraction = String(micros % Money.unitsPerWhole)
        fraction = String(repeating: "0", count: Money.scale - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    /// The sum; saturates at Int64's limit rather than trapping (sums of parsed amounts stay far below it).
    public static func + (lhs: Money, rhs: Money) -> Money {
        let (sum, overflow) = lhs.micros.addingReportingOverflow(rhs.micros)
        return Money(micros: overflow ? .max : sum)
    }
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.micros < rhs.micros }
}

extension Money: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text, field: decoder.codingPath.last?.stringValue ?? "amount") } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
