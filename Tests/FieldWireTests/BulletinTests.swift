import Crypto
import FieldWire
import Foundation
import Testing
import Watchlist

/// `Bulletin.verify`: forged, wrong key, malformed, expired, other region and replayed
/// bulletins each refused with their own code, in the documented order.
@Suite struct BulletinTests {
    let rootKey = SigningKey(), manifestKey = SigningKey(), ordersKey = SigningKey()
    let now: Int64 = 1_800_000_000
    var root: RootMetadata {
        RootMetadata(version: 1, expires: now + 86_400, rootKeys: [rootKey.publicKey], rootThreshold: 1,
                     manifestKeys: [manifestKey.publicKey], manifestThreshold: 1, orderKeys: [ordersKey.publicKey])
    }

    func bulletin(_ subject: Bulletin.Subject? = nil, region: String? = "臺北", expiresIn: Int64 = 3_600) throws -> Bulletin {
        Bulletin(id: UUIDv7.make(milliseconds: now * 1000), serial: 3, subject: try subject ?? .plate("abc-1234"), region: region,
                 summary: "getaway car, robbery 14:05", issuedAt: now - 60, expiresAt: now + expiresIn)
    }

    func code(_ envelope: SignedEnvelope, region: String? = "臺北", known: Set<String> = []) -> String? {
        do {
            _ = try Bulletin.verify(envelope, root: root, region: region, now: now) { known.contains($0) }
            return nil
        } catch let refusal as BulletinRefusal {
            return refusal.code.rawValue
        } catch {
            return "\(error)"
        }
    }

    @Test("subjects are normalised as checks normalise entries: the plate compact, the ID upper-case, the name folded")
    func subjects() throws {
        #expect(try Bulletin.Subject.plate("abc-1234").value == "ABC1234")
        #expect(try Bulletin.Subject.personID("a123456789").value == "A123456789")
        let person = try Bulletin.Subject.person(name: "陳 淑芬", dateOfBirth: "民國35年7月30日")
        #expect(person.value == (try PersonName(parsing: "陳淑芬")).foldedKey && person.dateOfBirth == "1946-07-30")
        #expect(throws: InputError.self) { try Bulletin.Subject.plate("") }
    }

    @Test("a bulletin signed by the manifest key, unexpired, for this region or every region, new here, is accepted")
    func accepted() throws {
        let good = try bulletin()
        #expect(try Bulletin.verify(good.signed(by: [manifestKey]), root: root, region: "臺北", now: now) { _ in false } == good)
        #expect(code(try bulletin(region: nil).signed(by: [manifestKey])) == nil, "no region: every region's")
        #expect(code(try bulletin(region: "高雄").signed(by: [manifestKey]), region: nil) == nil, "a terminal without a region takes all")
    }

    @Test("forged, wrong role, malformed, expired, other region, replayed: each its own code")
    func refusals() throws {
        let b = try bulletin()
        #expect(code(try b.signed(by: [SigningKey()])) == "bulletin.bad-signature")
        #expect(code(try b.signed(by: [ordersKey])) == "bulletin.wrong-role")
        #expect(code(try b.signed(by: [rootKey])) == "bulletin.wrong-role")
        #expect(code(try bulletin(expiresIn: 0).signed(by: [manifestKey])) == "bulletin.expired")
        #expect(code(try bulletin(region: "高雄").signed(by: [manifestKey])) == "bulletin.other-region")
        #expect(code(try b.signed(by: [manifestKey]), known: [b.id]) == "bulletin.replayed")
        // Another document type signed by the manifest key is not a bulletin.
        let order = try SignedEnvelope(payloadType: SignedEnvelope.orderType, payload: WireJSON.encode(b), signers: [manifestKey])
        #expect(code(order) == "bulletin.bad-format")
        // A subject not in its normalised form could never match: refused, not stored.
        var sloppy = b
        sloppy.subject.value = "abc-1234"
        #expect(code(try sloppy.signed(by: [manifestKey])) == "bulletin.bad-format")
        var wordless = b
        wordless.summary = ""
        #expect(code(try wordless.signed(by: [manifestKey])) == "bulletin.bad-format")
    }

    @Test("a payload altered after signing (another plate) is a bad signature")
    func tampered() throws {
        var envelope = try bulletin().signed(by: [manifestKey])
        envelope.payload = try WireJSON.encode(try bulletin(.plate("XYZ-9999"))).base64EncodedString()
        #expect(code(envelope) == "bulletin.bad-signature")
    }
}
