import DocketCore

/// Every operation the protocol serves, each declared once (docs/protocol.md lists the same set; a test keeps the
/// two equal). The session finds a request's operation here by name; there is no other routing.
enum OperationTable {
    static let all: [ProtocolOperation] = session + jobs + queues + tasks + admin

    static let byName: [String: ProtocolOperation] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static func operation(named name: String) -> ProtocolOperation? { byName[name] }
}
