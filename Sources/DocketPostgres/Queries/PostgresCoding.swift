import DocketCore
import Foundation
import PostgresNIO

/// JSON values travel as jsonb, written by `JSONWriter` and read by `JSONReader` rather than through PostgresNIO's
/// Codable support: Foundation's `JSONEncoder` was 45 % of docketd's CPU under `job.create_many` (a batch is bound
/// as one jsonb array) and its decoder most of a `job.get`'s row decoding.
extension JSONValue: PostgresCodable {
    public static var psqlType: PostgresDataType { .jsonb }
    public static var psqlFormat: PostgresFormat { .binary }

    /// jsonb's binary form: a version byte, then the text.
    private static let jsonbVersion: UInt8 = 1
    /// Deeper than any request may nest (`JSONReader.defaultMaxDepth`), so a value the service stored inside
    /// another (an event's data around a job's metadata) still reads back.
    static let storedMaxDepth = 256

    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer,
                                                         context: PostgresEncodingContext<JSONEncoder>) throws {
        byteBuffer.writeInteger(Self.jsonbVersion)
        byteBuffer.writeBytes(JSONWriter.bytes(self, sortingKeys: false))
    }

    public init<JSONDecoder: PostgresJSONDecoder>(from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
                                                  context: PostgresDecodingContext<JSONDecoder>) throws {
        switch (format, type) {
        case (.binary, .jsonb):
            guard buffer.readInteger(as: UInt8.self) == Self.jsonbVersion else { throw PostgresDecodingError.Code.failure }
        case (.binary, .json), (.text, .jsonb), (.text, .json):
            break
        default:
            throw PostgresDecodingError.Code.typeMismatch
        }
        do {
            self = try JSONReader.parse(buffer.readableBytesView, maxDepth: Self.storedMaxDepth)
        } catch {
            throw PostgresDecodingError.Code.failure
        }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
    }
}

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
