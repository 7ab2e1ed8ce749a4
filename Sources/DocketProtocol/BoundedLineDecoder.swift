import NIOCore

/// One frame of the line protocol: a line without its newline, or word that a line was too long (and was skipped).
public enum Frame: Sendable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits bytes into `\n`-terminated lines with a `LineScanner`, never buffering more than `maxLength` bytes of one
/// line, so a client cannot make the server hold an unbounded line.
public struct BoundedLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    private var scanner: LineScanner

    public init(maxLength: Int) { scanner = LineScanner(maxLength: maxLength) }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try apply(scanner.next(buffer.readableBytesView), context: context, buffer: &buffer)
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        _ = try apply(scanner.finish(buffer.readableBytesView), context: context, buffer: &buffer)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private func apply(_ step: LineScanner.Step, context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch step {
        case .line(let length, let consumed):
            let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
            buffer.moveReaderIndex(forwardBy: consumed)
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        case .tooLong(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            context.fireChannelRead(wrapInboundOut(.tooLong))
            return .continue
        case .skip(let consumed):
            buffer.moveReaderIndex(forwardBy: consumed)
            return .continue
        case .needMoreData:
            return .needMoreData
        }
    }
}
