import ArgumentParser
import DocketCore
import DocketPostgres
import Foundation

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded PostgreSQL server of a data folder.",
        subcommands: [Start.self, Stop.self, Status.self]
    )

    struct FolderOptions: ParsableArguments {
        @Option(name: .long, help: "Data folder (env DOCKET_DATA_DIR, default .docket).")
        var dataDir: String?

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        func server() throws -> EmbeddedPostgres {
            try EmbeddedPostgres(dataDirectory: dataDir ?? EmbeddedPostgres.defaultDataDirectory())
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the server (initialising it on first use).")
        @OptionGroup var options: FolderOptions

        func run() async throws {
            let server = try options.server()
            // Started on purpose: it keeps running when the last docketd using it exits, until `docket db stop`.
            try server.keep(true)
            let endpoint = try await server.ensureRunning(logger: .cli)
            guard case .running(let running) = try server.state() else {
                throw DocketError(.unavailable, "the server in \(server.dataDirectory) stopped right after starting")
            }
            try report(running, endpoint: endpoint, json: options.json)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the server if it runs.")
        @OptionGroup var options: FolderOptions

        func run() async throws {
            let server = try options.server()
            try server.keep(false)
            let stopped = try await server.stop()
            if options.json {
                try printJSON(["stopped": .bool(stopped), "data_dir": .string(server.dataDirectory)])
            } else {
                print(stopped ? "Stopped PostgreSQL of \(server.dataDirectory)." : "No PostgreSQL runs for \(server.dataDirectory).")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the server runs, and how to reach it.")
        @OptionGroup var options: FolderOptions

        func run() async throws {
            let server = try options.server()
            switch try server.state() {
            case .running(let running):
                try report(running, endpoint: running.endpoint, json: options.json)
            case let state:
                let text = state == .stopped ? "stopped" : "not initialised"
                if options.json {
                    try printJSON(["state": .string(text), "data_dir": .string(server.dataDirectory)])
                } else {
                    print("PostgreSQL of \(server.dataDirectory): \(text).")
                }
            }
        }
    }
}

private func report(_ running: EmbeddedPostgres.Running, endpoint: DatabaseEndpoint, json: Bool) throws {
    if json {
        try printJSON([
            "state": .string("running"), "pid": .number(Double(running.pid)), "port": .number(Double(running.port)),
            "socket_dir": .string(running.socketDirectory), "pgdata": .string(running.dataDirectory),
            "database_url": .string(endpoint.description), "psql": .string(endpoint.psqlCommand),
        ])
    } else {
        print("""
            PostgreSQL running (pid \(running.pid)).
              data:    \(running.dataDirectory)
              socket:  \(running.socketDirectory) port \(running.port)
              url:     \(endpoint)
              psql:    \(endpoint.psqlCommand)
            """)
    }
}
