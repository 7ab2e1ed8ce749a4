import AsyncHTTPClient
import DocketCore
import DocketPostgres
import Foundation
import NIOCore
import NIOHTTP1

/// The callback transport over AsyncHTTPClient: no redirects (a redirect could lead anywhere), a deadline per request,
/// and — when asked — a refusal of hosts that resolve to private addresses.
public final class HTTPCallbackTransport: CallbackTransport {
    let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public func post(url: String, headers: [(String, String)], body: [UInt8], timeout: Duration, refusePrivate: Bool) async -> CallbackOutcome {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parsed.host, !host.isEmpty else {
            return .failed(statusCode: nil, error: "refused: not an http(s) URL", final: true)
        }
        if refusePrivate {
            switch await Self.resolvesPrivate(host) {
            case .some(true): return .failed(statusCode: nil, error: "refused: \(host) resolves to a private or loopback address", final: true)
            case .none: return .failed(statusCode: nil, error: "cannot resolve \(host)", final: false)
            case .some(false): break
            }
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                + timeout.components.attoseconds / 1_000_000_000))
            let code = Int(response.status.code)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if CallbackDelivery.isSuccess(code) { return .delivered(statusCode: code) }
            return .failed(statusCode: code, error: "HTTP \(code)", final: false)
        } catch {
            return .failed(statusCode: nil, error: Self.describe(error), final: false)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout { return "timed out" }
            if error == .connectTimeout { return "connect timed out" }
        }
        return String(describing: error).prefix(200).description
    }

    /// Whether any address of `host` is private (nil: it does not resolve).
    static func resolvesPrivate(_ host: String) async -> Bool? {
        let name = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return try? await offloaded {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var results: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(name, nil, &hints, &results) == 0, let first = results else {
                throw DocketError(.unavailable, "cannot resolve \(name)")
            }
            defer { freeaddrinfo(first) }
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let address = entry.pointee.ai_addr {
                    if entry.pointee.ai_family == AF_INET {
                        let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                            withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                        }
                        if AddressPolicy.isPrivate(ipv4: bytes) { return true }
                    } else if entry.pointee.ai_family == AF_INET6 {
                        let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                        }
                        if AddressPolicy.isPrivate(ipv6: bytes) { return true }
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return false
        }
    }
}
