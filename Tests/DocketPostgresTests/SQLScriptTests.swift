import Testing
@testable import DocketPostgres

struct SQLScriptTests {
    @Test func splitsOnSemicolonsAndDropsComments() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x int); /* block; comment /* nested; */ still */
            INSERT INTO a VALUES (1);;
            """
        #expect(SQLScript.statements(in: sql) == ["CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)"])
    }

    @Test func keepsSemicolonsInsideQuotes() {
        let sql = #"SELECT 'a;b', 'it''s;', E'x\';y', "we;ird" FROM t; SELECT 2"#
        #expect(SQLScript.statements(in: sql) == [#"SELECT 'a;b', 'it''s;', E'x\';y', "we;ird" FROM t"#, "SELECT 2"])
    }

    @Test func keepsDollarQuotedBodies() {
        let sql = """
            CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;
            DO $$ BEGIN PERFORM 1; END $$;
            SELECT a$b FROM t
            """
        let statements = SQLScript.statements(in: sql)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("$body$ LANGUAGE plpgsql"))
        #expect(statements[1] == "DO $$ BEGIN PERFORM 1; END $$")
        #expect(statements[2] == "SELECT a$b FROM t")
    }

    @Test func everyEmbeddedMigrationSplitsAndRecordsItself() throws {
        #expect(!MigrationCatalog.all.isEmpty)
        for migration in MigrationCatalog.all {
            let last = try #require(migration.statements.last)
            #expect(last.contains("INSERT INTO docket.schema_migrations"), "\(migration.fileName) must record itself")
            #expect(last.contains("(\(migration.version), '\(migration.name)')"))
        }
    }

    @Test func parsesMigrationFileNames() {
        #expect(MigrationCatalog.parse(fileName: "0007_add_things.sql", sql: "")?.version == 7)
        #expect(MigrationCatalog.parse(fileName: "0007_add_things.sql", sql: "")?.name == "add_things")
        #expect(MigrationCatalog.parse(fileName: "add_things.sql", sql: "") == nil)
        #expect(MigrationCatalog.parse(fileName: "0007_.sql", sql: "") == nil)
        #expect(MigrationCatalog.parse(fileName: "0007_x.txt", sql: "") == nil)
    }
}
