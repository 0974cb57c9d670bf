import Testing
import Watchlist

@Suite("Photo references in records")
struct PhotoReferenceTests {
    static let sha = String(repeating: "ab", count: 32)
    static let other = String(repeating: "0f", count: 32)

    @Test("the list field round-trips: kind:sha256:bytes, ';' between photos, empty for none")
    func roundTrip() {
        let photos = [PhotoReference(sha256: Self.sha, bytes: 31_862, kind: .face),
                      PhotoReference(sha256: Self.other, bytes: 30_544, kind: .fullBody)]
        let field = PhotoReference.field(photos)
        #expect(field == "face:\(Self.sha):31862;full-body:\(Self.other):30544")
        #expect(PhotoReference.parse(field: field) == photos)
        #expect(PhotoReference.parse(field: "") == [])
        #expect(PhotoReference.field([]) == "")
    }

    @Test("malformed photo fields are refused", arguments: [
        "face:\(sha)",                                   // no size
        "selfie:\(sha):100",                             // unknown kind
        "face:\(String(repeating: "AB", count: 32)):100", // upper-case hex
        "face:\(String(repeating: "a", count: 63)):100",  // 63 digits
        "face:\(sha):0",                                 // empty file
        "face:\(sha):2000001",                           // past the limit
        "face:\(sha):12x",                               // not a number
        "face:\(sha):100;",                              // a trailing empty entry
        "face:\(sha):100;tattoo:\(sha):100",             // the same photo twice
    ])
    func refused(field: String) {
        #expect(PhotoReference.parse(field: field) == nil, "\(field)")
    }
}
