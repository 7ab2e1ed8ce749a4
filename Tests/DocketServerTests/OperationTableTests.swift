import DocketCore
import DocketTestSupport
import Foundation
import Testing
@testable import DocketServer

/// The operation table is the one list of what the protocol serves: the docs, the permission matrix and the
/// argument decoding are checked against it.
struct OperationTableTests {
    /// The operations `docs/protocol.md` documents: the backticked names in the first column of its tables.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOfFile: PackagePaths.root + "/docs/protocol.md", encoding: .utf8)
        var names = Set<String>()
        let operation = /^(hello|ping|auth|subscribe|unsubscribe|[a-z]+\.[a-z_]+)$/
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for match in firstCell.matches(of: /`([^`]+)`/) where String(match.1).wholeMatch(of: operation) != nil {
                names.insert(String(match.1))
            }
        }
        return names
    }

    @Test func theDocsListExactlyTheTable() throws {
        let documented = try Self.documentedOperations()
        let served = Set(OperationTable.all.map(\.name))
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
    }

    @Test func everyNameIsDeclaredOnce() {
        #expect(Set(OperationTable.all.map(\.name)).count == OperationTable.all.count)
    }

    /// Every scope held alone, against every operation of the table.
    @Test(arguments: Scope.allCases)
    func scopeMatrix(_ held: Scope) {
        let actor = Principal(id: "p", type: .agent, tenantId: "a", scopes: [held])
        for operation in OperationTable.all.map(\.descriptor) {
            let expected = operation.requiredScope.map(held.implied.contains) ?? true
            #expect(Authorizer.allows(actor, operation, tenant: "a") == expected, "\(held) → \(operation)")
        }
    }

    /// A valid value for each field some operation requires.
    static let requiredSamples: [String: JSONValue] = [
        "job_id": .string(UUID().uuidString), "task_id": .string(UUID().uuidString), "parent_id": .string(UUID().uuidString),
        "depends_on_id": .string(UUID().uuidString), "name": .string("n"), "title": .string("t"), "token": .string("dk_x"),
        "topics": .array([.string("job.*")]), "subscription_id": .string("s"), "step_index": .number(1), "agent": .string("a"),
        "assignee_id": .string("a"), "context_updates": .object([:]), "priority": .number(50), "limit": .string("1.00"),
        "period": .string("day"), "schedule": .object(["kind": .string("interval"), "every_seconds": .number(60)]),
        "jobs": .array([.object(["name": .string("n")])]), "queue": .string("q"),
    ]

    /// The required fields of `operation`, found by giving each field its refusal names until none is missing.
    static func requiredFields(of operation: ProtocolOperation) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for _ in 0..<8 {
            do {
                try operation.check(Arguments(fields))
                return fields
            } catch {
                guard case .string(let field)? = error.details["field"], let sample = requiredSamples[field], fields[field] == nil else {
                    return fields
                }
                fields[field] = sample
            }
        }
        return fields
    }

    /// Every operation refuses an argument it does not take (once its required ones are given).
    @Test func everyOperationRefusesUnknownArguments() {
        for operation in OperationTable.all {
            var fields = Self.requiredFields(of: operation)
            #expect(throws: Never.self, "\(operation.name) with its required fields") { try operation.check(Arguments(fields)) }
            fields["no_such_argument"] = .bool(true)
            do {
                try operation.check(Arguments(fields))
                Issue.record("\(operation.name) accepted an unknown argument")
            } catch {
                #expect(error.details["field"] == .string("no_such_argument"), "\(operation.name): \(error)")
            }
        }
    }

    /// Every operation that takes `tenant_id` refuses one that is not a string.
    @Test func tenantIDMustBeAString() {
        let withoutTenant: Set<String> = ["hello", "ping", "auth", "unsubscribe"]
        for operation in OperationTable.all where !withoutTenant.contains(operation.name) {
            var fields = Self.requiredFields(of: operation)
            fields["tenant_id"] = .bool(true)
            do {
                try operation.check(Arguments(fields))
                Issue.record("\(operation.name) accepted tenant_id true")
            } catch {
                #expect(error.details["field"] == .string("tenant_id"), "\(operation.name): \(error)")
            }
        }
    }
}
