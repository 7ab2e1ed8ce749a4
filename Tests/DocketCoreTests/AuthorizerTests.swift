import Testing
@testable import DocketCore

struct AuthorizerTests {
    func actor(_ scopes: Set<Scope>, tenant: String = "a", type: Principal.Kind = .agent, id: String = "agent-1") -> Principal {
        Principal(id: id, type: type, tenantId: tenant, scopes: scopes)
    }

    @Test func scopeImplications() {
        #expect(Scope.effective([.jobAdmin]) == [.jobAdmin, .jobWrite, .jobExecute, .jobRead])
        #expect(Scope.effective([.jobWrite]) == [.jobWrite, .jobRead])
        #expect(Scope.effective([.jobExecute]) == [.jobExecute, .jobRead])
        #expect(Scope.effective([.taskAdmin]) == [.taskAdmin, .taskWrite, .taskRead])
        #expect(Scope.effective([.taskWrite]) == [.taskWrite, .taskRead])
        #expect(Scope.effective([.clusterAdmin]) == [.clusterAdmin, .clusterRead])
        #expect(Scope.effective([.jobRead, .taskRead]) == [.jobRead, .taskRead])
    }

    /// Operations of every scope (the server's operation table checks the matrix for all of them).
    static let scoped: [ServiceOperation] = [
        .jobGet, .jobList, .jobCreate, .jobUpdate, .jobDelete, .jobLinkTask, .jobStart, .jobComplete, .jobClaim,
        .jobHeartbeat, .taskGet, .taskCreate, .taskDelete, .taskAddDependency, .budgetSet, .budgetGet, .clusterStatus,
    ]

    /// The whole matrix: every scope held alone against operations of every scope.
    @Test(arguments: Scope.allCases)
    func scopeMatrix(_ held: Scope) {
        for operation in Self.scoped {
            let expected = held.implied.contains(operation.requiredScope!)
            #expect(Authorizer.allows(actor([held]), operation, tenant: "a") == expected, "\(held) → \(operation)")
        }
    }

    @Test func namedScopeRules() {
        #expect(!Authorizer.allows(actor([.jobRead]), .jobUpdate, tenant: "a"))
        #expect(!Authorizer.allows(actor([.jobWrite]), .jobStart, tenant: "a"))
        #expect(Authorizer.allows(actor([.jobWrite]), .jobGet, tenant: "a"))
        #expect(!Authorizer.allows(actor([.jobExecute]), .jobDelete, tenant: "a"))
        #expect(Authorizer.allows(actor([.jobExecute]), .jobClaim, tenant: "a"))
        for operation in Self.scoped where operation.name.hasPrefix("job.") {
            #expect(Authorizer.allows(actor([.jobAdmin]), operation, tenant: "a"))
        }
        #expect(!Authorizer.allows(actor([.jobAdmin, .taskAdmin]), .budgetSet))
        #expect(Authorizer.allows(actor([.clusterAdmin]), .clusterStatus))
    }

    @Test func tenantIsolation() throws {
        let error = try #require(throws: DocketError.self) {
            try Authorizer.check(actor([.jobAdmin]), .jobGet, tenant: "b")
        }
        #expect(error.code == .permissionDenied)
        #expect(error.message == "actor agent-1 of tenant a cannot reach tenant b")
        #expect(Authorizer.allows(actor([.jobAdmin], type: .system), .jobGet, tenant: "b"))
        #expect(!Authorizer.allows(actor([], type: .system), .jobGet, tenant: "b"), "system actors still need scopes")
    }

    @Test func missingScopeMessage() throws {
        let error = try #require(throws: DocketError.self) {
            try Authorizer.check(actor([.jobRead]), .jobStart, tenant: "a")
        }
        #expect(error.code == .permissionDenied)
        #expect(error.message == "actor agent-1 lacks job:execute for job.start (has job:read)")
    }

    @Test func taskOwnerRights() {
        let owner = actor([.taskRead], id: "u1")
        for operation in [ServiceOperation.taskUpdate, .taskStart, .taskComplete, .taskCancel] {
            #expect(Authorizer.allows(owner, operation, tenant: "a", owner: "u1"))
            #expect(!Authorizer.allows(owner, operation, tenant: "a", owner: "u2"))
        }
        #expect(!Authorizer.allows(owner, .taskDelete, tenant: "a", owner: "u1"))
        #expect(!Authorizer.allows(owner, .taskAddDependency, tenant: "a", owner: "u1"))
        #expect(!Authorizer.allows(actor([], id: "u1"), .taskStart, tenant: "a", owner: "u1"), "owner still needs task:read")
        #expect(!Authorizer.allows(actor([.taskRead], tenant: "b", id: "u1"), .taskStart, tenant: "a", owner: "u1"))
    }

    @Test func tenantResolution() throws {
        #expect(try actor([]).tenant(for: nil) == "a")
        #expect(try actor([]).tenant(for: "a") == "a")
        #expect(throws: DocketError.self) { try actor([]).tenant(for: "b") }
        #expect(try actor([], type: .system).tenant(for: "b") == "b")
        let error = try #require(throws: DocketError.self) { try actor([], type: .system).tenant(for: nil) }
        #expect(error.code == .validationError)
        #expect(error.details["field"] == .string("tenant_id"))
    }

    @Test func parsesScopes() throws {
        #expect(try Scope.parse("job:admin") == .jobAdmin)
        let error = try #require(throws: DocketError.self) { try Scope.parse("job:everything") }
        #expect(error.code == .validationError)
    }
}
