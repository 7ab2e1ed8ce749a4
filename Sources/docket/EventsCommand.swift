import ArgumentParser
import DocketClient
import DocketCore
import DocketProtocol
import Foundation

/// `docket events tail|list`: follow the bus live, or page through stored events (replay, audit).
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow or list domain events through docketd.",
                                                    subcommands: [Tail.self, List.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as they happen, one line each (JSON lines with --json), until interrupted.")
        @OptionGroup var server: ServerOptions
        @Option(help: "Comma-separated topics or patterns (job.*, task.completed, *).") var topics = "*"
        @Option(help: "Replay the stored events after this seq first.") var fromSeq: Int?
        @Option(help: "Stop after this many events.") var count: Int?

        func run() async throws {
            let client = try await server.client()
            var args: [String: JSONValue] = ["topics": .array(Events.patterns(topics).map(JSONValue.string))]
            if let fromSeq { args["from_seq"] = .number(Double(fromSeq)) }
            let answer: JSONValue
            do {
                answer = try await client.call("subscribe", server.args(args))
            } catch {
                await client.close()
                throw error
            }
            if !server.json {
                FileHandle.standardError.write(Data("following from seq \(answer["last_seq"]?.cell ?? "?") (Ctrl-C to stop)\n".utf8))
            }
            var printed = 0
            for await push in client.pushes {
                switch push {
                case .event(_, let event):
                    let text = server.json ? String(decoding: JSONWriter.bytes(event), as: UTF8.self) : Events.line(event)
                    FileHandle.standardOutput.write(Data((text + "\n").utf8))
                    printed += 1
                    if let count, printed >= count {
                        await client.close()
                        return
                    }
                case .dropped(_, let error):
                    await client.close()
                    throw error
                }
            }
            throw DocketError(.unavailable, "the connection to docketd closed")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored events after a seq, oldest first.")
        @OptionGroup var server: ServerOptions
        @Option(help: "List events after this seq.") var afterSeq = 0
        @Option(help: "Comma-separated topics or patterns.") var topics = "*"
        @Option(help: "At most this many (1–1000).") var limit = 100

        func run() async throws {
            let args: [String: JSONValue] = ["after_seq": .number(Double(afterSeq)), "limit": .number(Double(limit)),
                                             "topics": .array(Events.patterns(topics).map(JSONValue.string))]
            try await server.run("events.list", args) { page in
                let lines = (page["events"]?.items ?? []).map(Events.line)
                return (lines.isEmpty ? "(none)" : lines.joined(separator: "\n"))
                    + "\nnext: --after-seq \(page["next_after_seq"]?.cell ?? "-")"
            }
        }
    }

    static func patterns(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `seq  time  topic  entity  tenant  data`.
    static func line(_ event: JSONValue) -> String {
        let data = event["data"].map { String(decoding: JSONWriter.bytes($0), as: UTF8.self) } ?? "{}"
        return [event["seq"]?.cell ?? "-", event["occurred_at"]?.cell ?? "-", event["topic"]?.cell ?? "-",
                event["entity_id"]?.cell ?? "-", event["tenant_id"]?.cell ?? "-", data].joined(separator: "  ")
    }
}
