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
