import FieldWire
import Foundation
import LocalAPIContract
import Synchronization

/// Something the front-end hears about on `/v1/events` (Server-Sent Events): the event name
/// and a JSON object as its data.
public struct AgentEvent: Sendable, Equatable {
    public var name: EventName
    /// A JSON object, already encoded.
    public var data: String

    public init(_ name: EventName, data: String) {
        self.name = name
        self.data = data
    }

    public init<T: Encodable>(_ name: EventName, _ value: T) {
        self.init(name, data: (try? WireJSON.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
    }
}

/// Fans events out to every open `/v1/events` stream. A slow subscriber loses its oldest
/// undelivered events (bounded buffer), never blocks the publisher.
public final class EventHub: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<AgentEvent>.Continuation]>([:])
    static let bufferPerSubscriber = 256

    public init() {}

    public func publish(_ event: AgentEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    /// A new subscription; it ends when the consumer stops iterating (or `finishAll`).
    public func subscribe() -> AsyncStream<AgentEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: AgentEvent.self, bufferingPolicy: .bufferingNewest(Self.bufferPerSubscriber))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Ends every stream (shutdown).
    public func finishAll() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
