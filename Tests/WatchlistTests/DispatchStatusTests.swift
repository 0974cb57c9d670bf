import Testing
import Watchlist

@Suite("Dispatch status transitions")
struct DispatchStatusTests {
    @Test("each step moves one forward; cleared from any open status, with a disposition; nothing after cleared",
          arguments: [
              (DispatchStatus.received, DispatchStatus.enRoute, true), (.received, .onScene, false), (.received, .cleared, true),
              (.enRoute, .onScene, true), (.enRoute, .received, false), (.enRoute, .cleared, true),
              (.onScene, .cleared, true), (.onScene, .enRoute, false), (.onScene, .onScene, false),
              (.cleared, .cleared, false), (.cleared, .received, false),
          ])
    func transitions(from: DispatchStatus, to: DispatchStatus, allowed: Bool) {
        let disposition = to == .cleared ? "done" : nil
        let result = Result { () throws(DispatchError) in try from.validate(next: to, disposition: disposition) }
        switch result {
        case .success: #expect(allowed)
        case .failure(let error): #expect(!allowed && error.code == .invalidTransition, "\(error)")
        }
    }

    @Test("clearing needs a disposition, trimmed; other steps refuse one")
    func disposition() throws {
        #expect(try DispatchStatus.onScene.validate(next: .cleared, disposition: "  arrest made \n") == "arrest made")
        #expect(throws: DispatchError.self) { try DispatchStatus.onScene.validate(next: .cleared, disposition: nil) }
        #expect(throws: DispatchError.self) { try DispatchStatus.onScene.validate(next: .cleared, disposition: String(repeating: "x", count: 501)) }
        #expect(throws: DispatchError.self) { try DispatchStatus.received.validate(next: .enRoute, disposition: "early") }
    }
}

@Suite struct TimestampParsingTests {
    @Test("an ISO 8601 timestamp as the terminal writes it reads back to the same millisecond")
    func roundTrip() {
        for ms: Int64 in [0, 1_795_700_000_123, 951_782_400_000, 4_102_444_799_999, 1_709_164_800_000] {
            #expect(Timestamp.milliseconds(iso8601: Timestamp.iso8601(milliseconds: ms)) == ms)
            #expect(Timestamp.milliseconds(iso8601: Timestamp.iso8601(seconds: ms / 1000)) == ms / 1000 * 1000)
        }
        #expect(Timestamp.milliseconds(iso8601: "2026-12-01T06:31:58.704Z") == 1_796_106_718_704)
        for bad in ["", "2026-13-01T00:00:00Z", "2026-12-01 06:31:58Z", "2026-12-01T06:31:58.7Z", "yesterday"] {
            #expect(Timestamp.milliseconds(iso8601: bad) == nil, "\(bad)")
        }
    }
}
