import DocketBus
import DocketCore
import DocketPostgres
import DocketServer
import Foundation

/// Every setting of docketd, from flags, `DOCKET_*` environment variables and a config file (in that order of
/// precedence), validated with messages that name the setting (docs/configuration.md lists them).
public struct DaemonConfiguration: Sendable {
    /// A setting: its name in the config file and as a flag (`--name`), its environment variable and default.
    public struct Setting: Sendable {
        public let name: String
        public let environment: String
        public let defaultValue: String?
        public let help: String
    }

    public static let settings: [Setting] = [
        .init(name: "listen", environment: "DOCKET_LISTEN", defaultValue: "127.0.0.1:7420", help: "protocol address (host:port)"),
        .init(name: "http", environment: "DOCKET_HTTP", defaultValue: "127.0.0.1:7421", help: "health and metrics address (host:port)"),
        .init(name: "database-url", environment: "DOCKET_DATABASE_URL", defaultValue: nil, help: "PostgreSQL URL; none: the embedded server"),
        .init(name: "data-dir", environment: "DOCKET_DATA_DIR", defaultValue: ".docket", help: "data folder (embedded PostgreSQL, admin key)"),
        .init(name: "max-line-bytes", environment: "DOCKET_MAX_LINE_BYTES", defaultValue: "1048576", help: "longest request line"),
        .init(name: "max-connections", environment: "DOCKET_MAX_CONNECTIONS", defaultValue: "1024", help: "open connections at most"),
        .init(name: "max-in-flight", environment: "DOCKET_MAX_IN_FLIGHT", defaultValue: "64", help: "requests in progress per connection"),
        .init(name: "auth-deadline", environment: "DOCKET_AUTH_DEADLINE", defaultValue: "10", help: "seconds to authenticate"),
        .init(name: "idle-timeout", environment: "DOCKET_IDLE_TIMEOUT", defaultValue: "300", help: "seconds before an idle connection closes"),
        .init(name: "max-failed-auths", environment: "DOCKET_MAX_FAILED_AUTHS", defaultValue: "5", help: "failed auths before disconnect"),
        .init(name: "max-unauthenticated", environment: "DOCKET_MAX_UNAUTHENTICATED", defaultValue: "128", help: "connections not yet authenticated; past it the oldest is closed"),
        .init(name: "max-output-bytes", environment: "DOCKET_MAX_OUTPUT_BYTES", defaultValue: "4194304", help: "unsent response bytes per connection before docketd stops reading it"),
        .init(name: "pool-size", environment: "DOCKET_POOL_SIZE", defaultValue: "20", help: "database connections at most"),
        .init(name: "acquire-timeout", environment: "DOCKET_ACQUIRE_TIMEOUT", defaultValue: "2", help: "seconds a request waits for a database connection"),
        .init(name: "request-timeout", environment: "DOCKET_REQUEST_TIMEOUT", defaultValue: "10", help: "seconds a request's database work may take in all"),
        .init(name: "statement-timeout", environment: "DOCKET_STATEMENT_TIMEOUT", defaultValue: "10", help: "PostgreSQL statement_timeout of pooled connections, in seconds (0: the server's)"),
        .init(name: "http-max-connections", environment: "DOCKET_HTTP_MAX_CONNECTIONS", defaultValue: "64", help: "open HTTP connections at most"),
        .init(name: "cancel-grace", environment: "DOCKET_CANCEL_GRACE", defaultValue: "30", help: "seconds a graceful cancel waits"),
        .init(name: "shutdown-grace", environment: "DOCKET_SHUTDOWN_GRACE", defaultValue: "10", help: "seconds to drain on SIGTERM"),
        .init(name: "group-commit", environment: "DOCKET_GROUP_COMMIT", defaultValue: "on", help: "concurrent job.creates share one statement and one commit: on, or off"),
        .init(name: "bus", environment: "DOCKET_BUS", defaultValue: "on", help: "event bus: on, or off (no subscriptions; for measuring its cost)"),
        .init(name: "subscriber-buffer", environment: "DOCKET_SUBSCRIBER_BUFFER", defaultValue: "1000", help: "events queued per subscriber before it is dropped"),
        .init(name: "max-subscriptions", environment: "DOCKET_MAX_SUBSCRIPTIONS", defaultValue: "16", help: "subscriptions per connection"),
        .init(name: "callback-attempts", environment: "DOCKET_CALLBACK_ATTEMPTS", defaultValue: "5", help: "callback attempts before job.callback_failed"),
        .init(name: "callback-timeout", environment: "DOCKET_CALLBACK_TIMEOUT", defaultValue: "5", help: "seconds a callback request may take"),
        .init(name: "callback-degraded-after", environment: "DOCKET_CALLBACK_DEGRADED_AFTER", defaultValue: "3", help: "consecutive failed callbacks before /readyz reports notifications degraded"),
        .init(name: "callback-refuse-private", environment: "DOCKET_CALLBACK_REFUSE_PRIVATE", defaultValue: "false", help: "refuse callback URLs that resolve to loopback or private addresses"),
        .init(name: "retention", environment: "DOCKET_RETENTION", defaultValue: "30d", help: "age after which events and finished runs are deleted (90s, 12h, 30d; off keeps them)"),
        .init(name: "retain-succeeded", environment: "DOCKET_RETAIN_SUCCEEDED", defaultValue: "1d", help: "age after which a succeeded job is deleted with its runs (off keeps them)"),
        .init(name: "retain-cancelled", environment: "DOCKET_RETAIN_CANCELLED", defaultValue: "7d", help: "age after which a cancelled job is deleted with its runs (off keeps them)"),
        .init(name: "retain-failed", environment: "DOCKET_RETAIN_FAILED", defaultValue: "7d", help: "age after which a job that failed with no retry left is deleted with its runs (off keeps them)"),
        .init(name: "log-level", environment: "DOCKET_LOG_LEVEL", defaultValue: "info", help: "trace, debug, info, notice, warning, error"),
    ]

    public var server = ServerConfiguration()
    public var httpHost = "127.0.0.1"
    public var httpPort = 7421
    public var databaseURL: String?
    public var dataDirectory = ".docket"
    public var poolSize = 20
    public var databaseLimits = DatabaseLimits()
    public var httpMaxConnections = 64
    public var cancelGraceSeconds: Double = 30
    public var shutdownGraceSeconds: Double = 10
    public var logLevel = "info"
    public var callbackAttempts = 5
    public var callbackTimeoutSeconds: Double = 5
    public var callbackDegradedAfter = 3
    public var callbackRefusePrivate = false
    /// Seconds after which events and finished runs are pruned; nil keeps them.
    public var retentionSeconds: Double? = 30 * 86_400
    /// Seconds after a job ended as each final status before it is deleted with its runs; a status not here is kept.
    public var jobRetentionSeconds: [JobStatus: Double] = [.succeeded: 86_400, .cancelled: 7 * 86_400, .failed: 7 * 86_400]
    public var busEnabled = true
    public var groupCommit = true
    public var bus = EventBus.Configuration()

    public init() {}

    /// Reads `key = value` lines (`#` starts a comment); keys are setting names.
    public static func parseFile(_ text: String, path: String) throws(DocketError) -> [String: String] {
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, settings.contains(where: { $0.name == parts[0] }) else {
                throw .validation(field: "config", "\(path):\(number + 1): expected `setting = value` with a known setting, got \"\(trimmed)\"")
            }
            values[parts[0]] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return values
    }

    /// Merges the sources (flags win over environment, environment over the file) and validates the result.
    public static func resolve(flags: [String: String], environment: [String: String], file: [String: String]) throws(DocketError) -> DaemonConfiguration {
        func value(_ setting: Setting) -> String? {
            flags[setting.name] ?? environment[setting.environment] ?? file[setting.name] ?? setting.defaultValue
        }
        var config = DaemonConfiguration()
        var raw: [String: String] = [:]
        for setting in settings { raw[setting.name] = value(setting) }
        func number(_ name: String) throws(DocketError) -> Double {
            guard let text = raw[name], let number = Double(text), number.isFinite else {
                throw .validation(field: name, "must be a number, got \"\(raw[name] ?? "")\"")
            }
            return number
        }
        func whole(_ name: String) throws(DocketError) -> Int {
            let value = try number(name)
            guard value.rounded() == value, let whole = Int(exactly: value) else {
                throw .validation(field: name, "must be a whole number, got \"\(raw[name] ?? "")\"")
            }
            return whole
        }
        (config.server.host, config.server.port) = try address(raw["listen"] ?? "", setting: "listen")
        (config.httpHost, config.httpPort) = try address(raw["http"] ?? "", setting: "http")
        config.databaseURL = raw["database-url"].flatMap { $0.isEmpty ? nil : $0 }
        if let url = config.databaseURL { _ = try DatabaseURLCheck.check(url) }
        config.dataDirectory = raw["data-dir"] ?? ".docket"
        config.server.maxLineBytes = try whole("max-line-bytes")
        config.server.maxConnections = try whole("max-connections")
        config.server.maxInFlightPerConnection = try whole("max-in-flight")
        config.server.authDeadlineSeconds = try number("auth-deadline")
        config.server.idleTimeoutSeconds = try number("idle-timeout")
        config.server.maxFailedAuths = try whole("max-failed-auths")
        config.server.maxUnauthenticated = try whole("max-unauthenticated")
        config.server.maxOutputBytes = try whole("max-output-bytes")
        config.poolSize = try whole("pool-size")
        guard (1...1000).contains(config.poolSize) else { throw .validation(field: "pool-size", "must be 1–1000") }
        func seconds(_ name: String, allowZero: Bool = false) throws(DocketError) -> Duration {
            let value = try number(name)
            guard value > 0 || (allowZero && value == 0), value <= 3600 else {
                throw .validation(field: name, "must be \(allowZero ? "0" : "more than 0") to 3600 seconds, got \(raw[name] ?? "")")
            }
            return .milliseconds(Int(value * 1000))
        }
        config.databaseLimits.acquireTimeout = try seconds("acquire-timeout")
        config.databaseLimits.requestTimeout = try seconds("request-timeout")
        config.databaseLimits.statementTimeout = try seconds("statement-timeout", allowZero: true)
        guard config.databaseLimits.requestTimeout >= config.databaseLimits.acquireTimeout else {
            throw .validation(field: "request-timeout", "must be at least acquire-timeout")
        }
        config.httpMaxConnections = try whole("http-max-connections")
        guard (1...100_000).contains(config.httpMaxConnections) else {
            throw .validation(field: "http-max-connections", "must be 1–100000")
        }
        config.cancelGraceSeconds = try number("cancel-grace")
        guard config.cancelGraceSeconds >= 0 else { throw .validation(field: "cancel-grace", "must not be negative") }
        config.shutdownGraceSeconds = try number("shutdown-grace")
        guard config.shutdownGraceSeconds > 0 else { throw .validation(field: "shutdown-grace", "must be positive") }
        config.logLevel = raw["log-level"] ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(config.logLevel) else {
            throw .validation(field: "log-level", "must be trace, debug, info, notice, warning or error")
        }
        switch raw["group-commit"] ?? "on" {
        case "on": config.groupCommit = true
        case "off": config.groupCommit = false
        default: throw .validation(field: "group-commit", "must be on or off, got \"\(raw["group-commit"] ?? "")\"")
        }
        switch raw["bus"] ?? "on" {
        case "on": config.busEnabled = true
        case "off": config.busEnabled = false
        default: throw .validation(field: "bus", "must be on or off, got \"\(raw["bus"] ?? "")\"")
        }
        config.callbackAttempts = try whole("callback-attempts")
        guard (1...100).contains(config.callbackAttempts) else { throw .validation(field: "callback-attempts", "must be 1–100") }
        config.callbackTimeoutSeconds = try number("callback-timeout")
        guard config.callbackTimeoutSeconds > 0, config.callbackTimeoutSeconds <= 300 else {
            throw .validation(field: "callback-timeout", "must be more than 0 and at most 300 seconds")
        }
        config.callbackDegradedAfter = try whole("callback-degraded-after")
        guard config.callbackDegradedAfter >= 1 else { throw .validation(field: "callback-degraded-after", "must be at least 1") }
        switch raw["callback-refuse-private"] ?? "false" {
        case "true", "on", "yes": config.callbackRefusePrivate = true
        case "false", "off", "no": config.callbackRefusePrivate = false
        default: throw .validation(field: "callback-refuse-private", "must be true or false")
        }
        config.retentionSeconds = try retention(raw["retention"] ?? "30d")
        config.jobRetentionSeconds = [:]
        for status in [JobStatus.succeeded, .cancelled, .failed] {
            let name = "retain-\(status.rawValue)"
            config.jobRetentionSeconds[status] = try retention(raw[name] ?? "", field: name)
        }
        config.bus.subscriberBuffer = try whole("subscriber-buffer")
        config.bus.maxSubscriptionsPerConnection = try whole("max-subscriptions")
        try config.bus.validate()
        try config.server.validate()
        return config
    }

    /// `90s`, `15m`, `12h`, `30d` (a bare number is seconds); `off` keeps everything.
    static func retention(_ text: String, field: String = "retention") throws(DocketError) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "off" || trimmed == "0" { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = trimmed
        var unit = 1.0
        if let last = trimmed.last, let factor = units[last] {
            number = String(trimmed.dropLast())
            unit = factor
        }
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw .validation(field: field, "must be an age such as 90s, 12h or 30d, or off; got \"\(text)\"")
        }
        return value * unit
    }

    static func address(_ text: String, setting: String) throws(DocketError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port), colon != text.startIndex else {
            throw .validation(field: setting, "must be host:port such as 127.0.0.1:7420, got \"\(text)\"")
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }
}

/// A light check that a database URL names PostgreSQL (the full parse happens when connecting).
enum DatabaseURLCheck {
    static func check(_ url: String) throws(DocketError) -> Bool {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw .validation(field: "database-url", "must start with postgres:// or postgresql://")
        }
        return true
    }
}

extension DaemonConfiguration {
    /// What the command line asks for: `--setting value` (or `--setting=value`) pairs for any setting, `--config`,
    /// `--help` and `--version`.
    public struct CommandLine: Sendable, Equatable {
        public var flags: [String: String] = [:]
        public var configFile: String?
        public var help = false
        public var version = false
    }

    /// Reads the command line against the settings table; an unknown flag or a missing value is named.
    public static func parseArguments(_ arguments: [String]) throws(DocketError) -> CommandLine {
        var line = CommandLine()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "--help", "-h": line.help = true; continue
            case "--version": line.version = true; continue
            default: break
            }
            guard argument.hasPrefix("--") else { throw .validation(field: argument, "unexpected argument; settings are --name value") }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard name == "config" || settings.contains(where: { $0.name == name }) else {
                throw .validation(field: name, "unknown setting; see docketd --help")
            }
            if value == nil {
                guard index < arguments.endIndex else { throw .validation(field: name, "needs a value") }
                value = arguments[index]
                index += 1
            }
            if name == "config" { line.configFile = value } else { line.flags[name] = value }
        }
        return line
    }

    /// `docketd --help`: every setting with its environment variable and default.
    public static var usage: String {
        var lines = ["usage: docketd [--setting value …] [--config FILE]", "",
                     "Settings (flag, environment variable, default), in order of precedence flag > environment > config file:"]
        for setting in settings {
            let fallback = setting.defaultValue.map { " (default \($0))" } ?? ""
            lines.append("  --\(setting.name)  \(setting.environment)\(fallback)")
            lines.append("      \(setting.help)")
        }
        lines.append("  --config FILE  DOCKET_CONFIG")
        lines.append("      lines of `setting = value`")
        return lines.joined(separator: "\n")
    }

    /// The settings from `arguments`, the environment and the config file they name.
    public static func load(arguments: [String], environment: [String: String]) throws(DocketError) -> (CommandLine, DaemonConfiguration?) {
        let line = try parseArguments(arguments)
        guard !line.help, !line.version else { return (line, nil) }
        var file: [String: String] = [:]
        if let path = line.configFile ?? environment["DOCKET_CONFIG"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .validation(field: "config", "cannot read \(path)")
            }
            file = try parseFile(text, path: path)
        }
        return (line, try resolve(flags: line.flags, environment: environment, file: file))
    }
}
