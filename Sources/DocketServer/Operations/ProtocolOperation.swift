import DocketCore
import DocketProtocol

/// One operation of the protocol, declared once: who may call it (its `ServiceOperation`), its typed arguments, and
/// what it does. `OperationTable` lists them all; the session looks each request up there, and nowhere else.
struct ProtocolOperation: Sendable {
    /// How the session runs it.
    enum Order: Sendable {
        /// Session operations: answered in the order they arrive, before the next line is read.
        case inOrder
        /// Everything else: concurrently, up to `max-in-flight` per connection.
        case concurrent
    }

    let descriptor: ServiceOperation
    let order: Order
    /// Reads the arguments (refusing unknown ones) and runs the handler; its result writes itself to the wire.
    let run: @Sendable (Arguments, OperationCall) async throws -> any WireEncodable
    /// Reads the arguments only: what `run` refuses before any work.
    let check: @Sendable (Arguments) throws(DocketError) -> Void

    init<Input: OperationArguments, Output: WireEncodable>(
        _ descriptor: ServiceOperation, _ input: Input.Type, order: Order = .concurrent,
        _ handler: @escaping @Sendable (Input, OperationCall) async throws -> Output
    ) {
        self.descriptor = descriptor
        self.order = order
        self.run = { arguments, call in try await handler(try Input(arguments), call) }
        self.check = { arguments throws(DocketError) in _ = try Input(arguments) }
    }

    var name: String { descriptor.name }

    /// Whether the caller must have authenticated first.
    var needsActor: Bool { descriptor.access != .anyone }
}
