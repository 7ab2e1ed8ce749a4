import DocketCore
import Foundation

/// One-shot HTTP/1.1 requests over a raw socket (docketd's health and metrics port).
public enum HTTP {
    /// `GET path`: the status and the body.
    public static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        try request(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    /// Sends `raw` as it is and reads until the server closes: the first status and the body.
    public static func request(port: Int, _ raw: String) throws -> (status: Int, body: String) {
        let responses = try exchange(port: port, raw)
        guard let first = responses.first else { throw DocketError(.unavailable, "no HTTP response from \(port)") }
        return first
    }

    /// Every response the server sends to `raw` before it closes (a correct server sends one per request).
    public static func exchange(port: Int, _ raw: String) throws -> [(status: Int, body: String)] {
        let connection = try RawConnection(port: port)
        connection.send(raw)
        var lines: [String] = []
        while let line = connection.line() { lines.append(line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))) }
        var responses: [(Int, String)] = []
        var index = 0
        while index < lines.count {
            guard lines[index].hasPrefix("HTTP/1."), let status = Int(lines[index].split(separator: " ").dropFirst().first ?? "") else {
                index += 1
                continue
            }
            index += 1
            while index < lines.count, !lines[index].isEmpty { index += 1 }
            index += 1
            var body: [String] = []
            while index < lines.count, !lines[index].hasPrefix("HTTP/1.") {
                body.append(lines[index])
                index += 1
            }
            responses.append((status, body.joined(separator: "\n")))
        }
        return responses
    }

    /// The value of one metric (its first sample line) on `/metrics`, or nil.
    public static func metric(port: Int, _ name: String) throws -> Double? {
        let (_, body) = try get(port: port, path: "/metrics")
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
