// A Docket worker: handlers by kind, run as a service until SIGTERM or Ctrl-C (which let running jobs finish).
//
//   swift run docket-example-worker --kinds hello --tenant demo
//
// Options: --address host:port (default 127.0.0.1:7420), --token (or DOCKET_TOKEN, else .docket/admin.key),
// --tenant (needed with the admin key), --kinds a,b (default hello), --name, --concurrency, --heartbeat seconds,
// --lease seconds. Every handler here does the same demonstration work: it sleeps `args.sleep_ms` in steps of 10 ms,
// saving a checkpoint every 10 steps (and when stopped), and answers {worker, runtime, kind, n}.
import DocketClient
import DocketCore
import DocketWorker
import Foundation
import Logging
import ServiceLifecycle

var settings: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("usage: docket-example-worker [--address host:port] [--token T] [--tenant T] [--kinds a,b] [--name N] [--concurrency N] [--heartbeat S] [--lease S]\n".utf8))
        exit(2)
    }
    settings[String(flag.dropFirst(2))] = value
}
let address = settings["address"] ?? "127.0.0.1:7420"
let host = String(address.split(separator: ":").first ?? "127.0.0.1"), port = Int(address.split(separator: ":").last ?? "") ?? 7420
let token = settings["token"] ?? ProcessInfo.processInfo.environment["DOCKET_TOKEN"]
    ?? (try? String(contentsOfFile: ".docket/admin.key", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
let name = settings["name"] ?? "swift-\(ProcessInfo.processInfo.processIdentifier)"
let kinds = (settings["kinds"] ?? "hello").split(separator: ",").map(String.init)

/// The demonstration handler: sleeps `args.sleep_ms` in 10 ms steps from its checkpoint, checkpointing as it goes.
func demo(kind: String) -> JobHandler {
    { context in
        let steps = context.args["sleep_ms"].flatMap { if case .number(let ms) = $0 { Int(ms) / 10 } else { nil } } ?? 0
        var step = context.checkpointStep ?? 0
        while step < steps {
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                try await context.checkpoint(step: step, state: ["step": .number(Double(step))])
                throw error
            }
            step += 1
            if step.isMultiple(of: 10) { try await context.checkpoint(step: step, state: ["step": .number(Double(step))]) }
        }
        return JobResult(output: ["worker": .string(name), "runtime": "swift", "kind": .string(kind),
                                  "n": context.args["n"] ?? .null])
    }
}

var logger = Logger(label: "example-worker")
logger.logLevel = .info
let docket: Docket
do {
    docket = try await Docket.connect(Docket.Options(host: host, port: port, token: token))
} catch {
    FileHandle.standardError.write(Data("docket-example-worker: \(error)\n".utf8))
    exit(1)
}
var options = WorkerOptions(agent: name, tenantId: settings["tenant"])
if let value = settings["concurrency"].flatMap(Int.init) { options.concurrency = value }
if let value = settings["heartbeat"].flatMap(Double.init) { options.heartbeatInterval = .milliseconds(Int(value * 1000)) }
if let value = settings["lease"].flatMap(Int.init) { options.leaseSeconds = value }
let worker = try Worker(docket: docket, handlers: Dictionary(uniqueKeysWithValues: kinds.map { ($0, demo(kind: $0)) }),
                        options: options, logger: logger)
FileHandle.standardOutput.write(Data("worker \(name) ready (kinds \(kinds.joined(separator: ",")))\n".utf8))
let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
try await group.run()
let counts = worker.statistics
FileHandle.standardOutput.write(Data("worker \(name) stopped: completed \(counts.completed), failed \(counts.failed), cancelled \(counts.cancelled), paused \(counts.paused)\n".utf8))
await docket.close()
