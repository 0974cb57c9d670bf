import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body went past the limit, once the answer (413) is
/// written: the server would otherwise go on reading — and dropping — whatever the client
/// still sends, gigabytes if it likes, before it could read the next request.
final class BodyLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let maxBytes: Int
    private var received = 0
    private var over = false

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            received = 0
            over = false
        case .body(let buffer):
            received += buffer.readableBytes
            if received > maxBytes { over = true }
            // Past the limit the handler has its answer: the rest is not passed on.
            if over, received - buffer.readableBytes > maxBytes { return }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), over else {
            context.write(data, promise: promise)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.cascade(to: promise)
        context.writeAndFlush(data, promise: written)
        written.futureResult.whenComplete { _ in context.close(promise: nil) }
    }
}
