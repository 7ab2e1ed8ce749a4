// libFuzzer targets for what hostile input reaches first (scripts/fuzz builds and runs them). One binary, four
// targets; DOCKET_FUZZ_TARGET picks one: request, lines, schedule, cursor. Each checks properties, not only "no crash".
import Foundation

nonisolated(unsafe) var target = "request"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    target = ProcessInfo.processInfo.environment["DOCKET_FUZZ_TARGET"] ?? "request"
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "lines": FuzzLines.run(bytes)
    case "schedule": FuzzSchedule.run(bytes)
    case "cursor": FuzzCursor.run(bytes)
    default: FuzzRequest.run(bytes)
    }
    return 0
}

/// Stops the fuzzer with a message when a property fails (libFuzzer saves the input).
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        FileHandle.standardError.write(Data("property failed: \(message())\n".utf8))
        abort()
    }
}

enum FuzzRequest {
    /// A request line parses or is refused with BAD_REQUEST/VALIDATION_ERROR; a parsed one written back as a line
    /// parses to the same request.
    static func run(_ bytes: [UInt8]) {
        switch WireRequest.parse(bytes) {
        case .failure(let refusal):
            require([.badRequest, .validationError].contains(refusal.error.code), "refused with \(refusal.error.code)")
        case .success(let request):
            var line = request.line
            line.removeLast()
            guard case .success(let again) = WireRequest.parse(line) else {
                require(false, "a request written back does not parse: \(String(decoding: line, as: UTF8.self))")
                return
            }
            require(again.op == request.op && again.id == request.id && again.args.fields == request.args.fields,
                    "round trip changed the request")
        }
        // Any JSON value read back from its own text is the same value.
        if let value = try? JSONReader.parse(bytes) {
            let text = JSONWriter.bytes(value)
            require((try? JSONReader.parse(text)) == value, "JSON round trip changed the value")
            require(value.encodedByteCount == text.count, "encodedByteCount \(value.encodedByteCount) != \(text.count)")
        }
    }
}

enum FuzzLines {
    /// Fed in pieces of any sizes, the scanner yields the same lines as splitting the whole at newlines, never a line
    /// longer than the limit, and makes progress on every step.
    static func run(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let maxLength = Int(bytes[0] % 64) + 1
        let chunk = Int(bytes[1] % 17) + 1
        let input = Array(bytes.dropFirst(2))
        var scanner = LineScanner(maxLength: maxLength)
        var pending: [UInt8] = []
        var lines: [[UInt8]] = []
        var tooLong = 0
        func drain(finishing: Bool) {
            while true {
                let step = finishing ? scanner.finish(pending) : scanner.next(pending)
                switch step {
                case .line(let length, let consumed):
                    require(length <= maxLength || finishing, "a line of \(length) > \(maxLength)")
                    require(consumed > 0 && consumed <= pending.count, "bad consume \(consumed)")
                    lines.append(Array(pending[..<length]))
                    pending.removeFirst(consumed)
                case .tooLong(let consumed):
                    require(consumed > 0 && consumed <= pending.count, "bad consume \(consumed)")
                    tooLong += 1
                    pending.removeFirst(consumed)
                case .skip(let consumed):
                    require(consumed > 0 && consumed <= pending.count, "bad consume \(consumed)")
                    pending.removeFirst(consumed)
                case .needMoreData:
                    require(pending.count <= maxLength + 1 || finishing, "holding \(pending.count) bytes of one line")
                    return
                }
                if finishing { return }
            }
        }
        var index = 0
        while index < input.count {
            pending += input[index..<min(index + chunk, input.count)]
            index += chunk
            drain(finishing: false)
        }
        drain(finishing: true)
        // The reference: split the whole input at newlines.
        var expected: [[UInt8]] = []
        var expectedTooLong = 0
        var parts = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        let last = parts.removeLast()
        for part in parts {
            if part.count > maxLength { expectedTooLong += 1; continue }
            expected.append(part.last == UInt8(ascii: "\r") ? Array(part.dropLast()) : part)
        }
        if !last.isEmpty {
            if last.count > maxLength { expectedTooLong += 1 } else { expected.append(last) }
        }
        require(lines == expected, "lines differ: \(lines.count) vs \(expected.count)")
        require(tooLong == expectedTooLong, "too-long count \(tooLong) vs \(expectedTooLong)")
    }
}

enum FuzzSchedule {
    /// A cron text parses or is a SCHEDULE_ERROR with a short message; a parsed one always answers `nextFire`
    /// (within its horizon), and every fire is after its start and matches the expression. A JSON schedule parses
    /// or is refused with SCHEDULE_ERROR.
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let cron = try CronExpression(text)
            let start = Date(timeIntervalSince1970: 1_780_000_000)
            let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
            let zone = TimeZone(identifier: zones[bytes.count % zones.count])!
            if let fire = cron.nextFire(after: start, in: zone) {
                require(fire > start, "a fire before its start")
                if let again = cron.nextFire(after: fire, in: zone) { require(again > fire, "fires go backwards") }
            }
        } catch {
            require(error.code == .scheduleError, "cron refused with \(error.code)")
            require(error.message.utf8.count < 600, "a message of \(error.message.utf8.count) bytes")
        }
        if let value = try? JSONReader.parse(bytes) {
            do {
                let schedule = try Schedule(json: value)
                let again = try Schedule(json: schedule.json)
                require(again == schedule, "schedule JSON round trip changed it")
                _ = schedule.firstSlot(createdAt: Date(timeIntervalSince1970: 1_780_000_000))
            } catch {
                require(error.code == .scheduleError, "schedule refused with \(error.code)")
            }
        }
    }
}

enum FuzzCursor {
    /// A cursor or a time parses or is refused; what parses formats and parses back to the same instant.
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let cursor = try? Cursor(text, field: "after") {
            require((try? Cursor(cursor.text, field: "after")) == cursor, "cursor round trip")
        }
        if let date = Timestamp.parse(text) {
            let formatted = Timestamp.format(date)
            require(Timestamp.parse(formatted).map(Timestamp.format) == formatted, "time round trip: \(formatted)")
        }
        if case .object(let fields)? = try? JSONReader.parse(bytes) {
            do {
                _ = try PageRequest(Arguments(fields))
            } catch {
                require(error.code == .validationError, "page refused with \(error.code)")
            }
        }
    }
}
