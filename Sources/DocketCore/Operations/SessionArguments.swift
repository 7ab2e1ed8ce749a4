// The typed arguments of the session and event operations (docs/protocol.md, "Session" and "Events").

/// `auth`.
public struct AuthArguments: OperationArguments {
    public var token: String

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        token = try reader.string("token", maxLength: 200)
    }
}

/// `subscribe`.
public struct SubscribeArguments: OperationArguments {
    public var topics: [String]
    public var fromSeq: Int64?
    public var tenantId: String?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        topics = try reader.required("topics", try reader.optionalStrings("topics", maxCount: EventFilter.maximumPatterns, maxLength: 100),
                                     "is required (for example [\"job.*\", \"task.completed\"])")
        fromSeq = try reader.optionalInt("from_seq", range: 0...Int(Int64.max / 2)).map(Int64.init)
        tenantId = try reader.tenant()
    }
}

/// `unsubscribe`.
public struct UnsubscribeArguments: OperationArguments {
    public var subscriptionId: String

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        subscriptionId = try reader.string("subscription_id", maxLength: 100)
    }
}

/// `events.list`.
public struct EventsListArguments: OperationArguments {
    public var afterSeq: Int64
    public var limit: Int
    public var topics: [String]
    public var tenantId: String?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        afterSeq = Int64(try reader.optionalInt("after_seq", range: 0...Int(Int64.max / 2)) ?? 0)
        limit = try reader.optionalInt("limit", range: 1...1000) ?? 100
        topics = try reader.optionalStrings("topics", maxCount: EventFilter.maximumPatterns, maxLength: 100) ?? ["*"]
        tenantId = try reader.tenant()
    }
}
