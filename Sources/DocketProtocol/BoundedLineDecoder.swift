import NIOCore

/// One frame of the line protocol: a line without its newline, or word that a line was too long (and was skipped).
public enum Frame: Sendable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits bytes into `\n`-terminated lines, never buffering more than `maxLength` bytes of one line.
///
/// A line past the limit is reported once as `.tooLong` and its bytes are dropped as they arrive, up to its newline,
/// so a client cannot make the server hold an unbounded line.
public struct BoundedLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    let maxLength: Int
    private var skipping = false
    private var scanned = 0

    public init(maxLength: Int) { self.maxLength = maxLength }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let newline = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            scanned = 0
            if skipping {
                buffer.moveReaderIndex(forwardBy: length + 1)
                skipping = false
                return .continue
            }
            guard length <= maxLength else {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong))
                return .continue
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        if skipping || view.count > maxLength {
            if !skipping {
                skipping = true
                context.fireChannelRead(wrapInboundOut(.tooLong))
            }
            buffer.moveReaderIndex(forwardBy: view.count)
            scanned = 0
        }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without a newline is served too, unless it was being skipped.
        if buffer.readableBytes > 0, !skipping {
            context.fireChannelRead(wrapInboundOut(.line(buffer.readSlice(length: buffer.readableBytes)!)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
