import ArgumentParser
import DocketClient
import DocketCore
import DocketPostgres
import DocketProtocol
import Foundation

/// How a command reaches docketd: `--address` / `DOCKET_ADDRESS`, and `--token` / `DOCKET_TOKEN` or the data folder's
/// bootstrap key.
struct ServerOptions: ParsableArguments {
    @Option(help: "docketd address host:port (env DOCKET_ADDRESS, default 127.0.0.1:7420).")
    var address: String?

    @Option(help: "API key (env DOCKET_TOKEN; default: the data folder's admin.key).")
    var token: String?

    @Option(name: .long, help: "Data folder holding admin.key (env DOCKET_DATA_DIR, default .docket).")
    var dataDir: String?

    @Option(help: "Tenant to act in (system actors must name one).")
    var tenant: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func client() async throws -> DocketClient {
        let environment = ProcessInfo.processInfo.environment
        let text = address ?? environment["DOCKET_ADDRESS"] ?? "127.0.0.1:7420"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("--address must be host:port, got \(text)")
        }
        let folder = dataDir ?? EmbeddedPostgres.defaultDataDirectory(environment: environment)
        let key = token ?? environment["DOCKET_TOKEN"]
            ?? (try? String(contentsOfFile: folder + "/admin.key", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key, !key.isEmpty else {
            throw DocketError(.unauthenticated, "no API key: pass --token, set DOCKET_TOKEN, or run where \(folder)/admin.key exists")
        }
        return try await DocketClient.connect(host: String(text[..<colon]), port: port, token: key)
    }

    /// Arguments with the tenant added when one was given.
    func args(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        var fields = fields
        if let tenant { fields["tenant_id"] = .string(tenant) }
        return fields
    }

    /// Runs one call and prints its answer as JSON or through `render`.
    func run(_ op: String, _ fields: [String: JSONValue], render: (JSONValue) -> String) async throws {
        let client = try await client()
        let result: JSONValue
        do {
            result = try await client.call(op, args(fields))
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        if json {
            print(String(decoding: JSONWriter.bytes(result), as: UTF8.self))
        } else {
            print(render(result))
        }
    }
}

extension JSONValue {
    /// A short text for a table cell.
    var cell: String {
        switch self {
        case .null: "-"
        case .bool(let flag): flag ? "yes" : "no"
        case .number(let number): number.rounded() == number ? String(Int64(number)) : String(number)
        case .string(let text): text
        case .array(let items): "[\(items.count)]"
        case .object: "{…}"
        }
    }

    var items: [JSONValue] {
        if case .array(let items) = self { return items }
        if case .array(let items)? = self["items"] { return items }
        return []
    }
}

/// A table of `columns` picked from each item.
func table(_ items: [JSONValue], _ columns: [String]) -> String {
    if items.isEmpty { return "(none)" }
    return Table(header: columns.map { $0.uppercased() }, rows: items.map { item in columns.map { item[$0]?.cell ?? "-" } }).rendered
}

/// Every field of one object, one per line.
func fields(_ value: JSONValue) -> String {
    guard let members = value.objectValue else { return value.cell }
    let width = members.keys.map(\.count).max() ?? 0
    return members.keys.sorted().map { key in
        let shown: String
        switch members[key]! {
        case .object, .array: shown = String(decoding: JSONWriter.bytes(members[key]!), as: UTF8.self)
        case let other: shown = other.cell
        }
        return key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + shown
    }.joined(separator: "\n")
}
