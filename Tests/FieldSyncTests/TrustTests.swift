import Crypto
import FieldSync
import FieldWire
import Foundation
import Testing

@Suite("Signed manifests and roots, in TUF's order")
struct TrustTests {
    static let now: Int64 = 1_795_700_000
    let rootKey = SigningKey()
    let manifestKey = SigningKey()

    func root(version: Int64 = 1, rootKeys: [SigningKey]? = nil, manifestKeys: [SigningKey]? = nil, expires: Int64 = now + 365 * 86_400) -> RootMetadata {
        RootMetadata(version: version, expires: expires, rootKeys: (rootKeys ?? [rootKey]).map(\.publicKey), rootThreshold: 1,
                     manifestKeys: (manifestKeys ?? [manifestKey]).map(\.publicKey), manifestThreshold: 1)
    }

    func manifest(sequence: Int64 = 5, issuedAt: Int64 = now - 60, expiresAt: Int64 = now + 86_400) -> Manifest {
        let digest = String(repeating: "a", count: 64)
        let snapshot = Manifest.File(path: "stolen-vehicles/v3.snapshot.csv.gz", sha256: digest, length: 1_000)
        let deltas = [Manifest.Delta(fromVersion: 2, toVersion: 3, file: .init(path: "stolen-vehicles/2-3.delta.gz", sha256: digest, length: 100))]
        return Manifest(sequence: sequence, issuedAt: issuedAt, expiresAt: expiresAt,
                        lists: [.stolenVehicles: .init(version: 3, recordCount: 10, digest: digest, snapshot: snapshot, deltas: deltas)])
    }

    func trust() throws -> TrustState { try .bootstrap(root().signed(by: [rootKey])) }

    func reason(_ body: () throws -> Void) -> SyncFailure.Reason? {
        do {
            try body()
            return nil
        } catch {
            return (error as? SyncFailure)?.reason
        }
    }

    @Test("an expired trusted root vouches for nothing, though no newer root was offered")
    func expiredTrustedRoot() throws {
        let trust = try TrustState.bootstrap(root(expires: Self.now - 1).signed(by: [rootKey]))
        #expect(reason { _ = try trust.verify(manifest().signed(by: [manifestKey]), now: Self.now) } == .expired)
        // Nor does a clock set back revive it, once a later manifest was trusted.
        let later = try TrustState(root: root(expires: Self.now + 10), lastSequence: 1, lastTrustedTime: Self.now + 20)
        #expect(reason { _ = try later.verify(manifest(expiresAt: Self.now + 86_400).signed(by: [manifestKey]), now: Self.now) } == .expired)
    }

    @Test("a root that resets the sequence floor, signed by the old root's keys, lets a lower sequence through again")
    func sequenceReset() throws {
        // A compromised manifest key published sequence 10^12; terminals trusted it.
        var trust = try TrustState(root: root(), lastSequence: 1_000_000_000_000, lastTrustedTime: Self.now - 60)
        #expect(reason { _ = try trust.verify(manifest(sequence: 6).signed(by: [manifestKey]), now: Self.now) } == .rollback)
        let newManifestKey = SigningKey()
        var next = root(version: 2, manifestKeys: [newManifestKey])
        next.resetManifestSequence = 5
        // Signed by the new root's own keys only: not accepted.
        var forged = trust
        #expect(reason { try forged.rotate(to: [next.signed(by: [SigningKey()])], now: Self.now) } == .badSignature)
        try trust.rotate(to: [next.signed(by: [rootKey])], now: Self.now)
        #expect(trust.lastSequence == 5)
        #expect(trust.floorWasReset)
        #expect(try trust.verify(manifest(sequence: 6).signed(by: [newManifestKey]), now: Self.now).sequence == 6)
        #expect(reason { _ = try trust.verify(manifest(sequence: 4).signed(by: [newManifestKey]), now: Self.now) } == .rollback)
    }

    @Test("a manifest signed by the manifest key verifies and round-trips")
    func valid() throws {
        let trust = try trust()
        let envelope = try manifest().signed(by: [manifestKey])
        let wire = try WireJSON.encode(envelope)
        #expect(try trust.verify(SignedEnvelope.decode(wire), now: Self.now) == manifest())
    }

    @Test("a wrong signing key is bad-signature")
    func wrongKey() throws {
        let trust = try trust()
        #expect(reason { _ = try trust.verify(manifest().signed(by: [SigningKey()]), now: Self.now) } == .badSignature)
        // The root key is trusted for roots, not for manifests.
        #expect(reason { _ = try trust.verify(manifest().signed(by: [rootKey]), now: Self.now) } == .badSignature)
    }

    @Test("a flipped bit in the signature or payload is bad-signature")
    func bitFlips() throws {
        let trust = try trust()
        var envelope = try manifest().signed(by: [manifestKey])
        var sig = Data(base64Encoded: envelope.signatures[0].sig)!
        sig[7] ^= 0x01
        envelope.signatures[0].sig = sig.base64EncodedString()
        #expect(reason { _ = try trust.verify(envelope, now: Self.now) } == .badSignature)

        var tampered = try manifest().signed(by: [manifestKey])
        var payload = Data(base64Encoded: tampered.payload)!
        let text = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "\"sequence\":5", with: "\"sequence\":9")
        payload = Data(text.utf8)
        tampered.payload = payload.base64EncodedString()
        #expect(reason { _ = try trust.verify(tampered, now: Self.now) } == .badSignature)
    }

    @Test("a manifest signed as another type does not verify")
    func typeConfusion() throws {
        let trust = try trust()
        var envelope = try manifest().signed(by: [manifestKey])
        envelope.payloadType = SignedEnvelope.rootType
        #expect(reason { _ = try trust.verify(envelope, now: Self.now) } == .badFormat)
    }

    @Test("an older sequence after a newer one is rollback; the same one is fine")
    func rollback() throws {
        var trust = try trust()
        trust.accept(try trust.verify(manifest(sequence: 7).signed(by: [manifestKey]), now: Self.now))
        #expect(reason { _ = try trust.verify(manifest(sequence: 6).signed(by: [manifestKey]), now: Self.now) } == .rollback)
        #expect(try trust.verify(manifest(sequence: 7).signed(by: [manifestKey]), now: Self.now).sequence == 7)
    }

    @Test("expired is judged against the later of the clock and the last trusted time")
    func freeze() throws {
        var trust = try trust()
        #expect(reason { _ = try trust.verify(manifest(expiresAt: Self.now - 1).signed(by: [manifestKey]), now: Self.now) } == .expired)
        trust.accept(try trust.verify(manifest(sequence: 8, issuedAt: Self.now).signed(by: [manifestKey]), now: Self.now))
        // The clock set back a day does not revive a manifest that expired before the last trusted time.
        let old = try manifest(sequence: 9, issuedAt: Self.now - 3 * 86_400, expiresAt: Self.now - 3_600).signed(by: [manifestKey])
        #expect(reason { _ = try trust.verify(old, now: Self.now - 86_400) } == .expired)
    }

    @Test("unsafe paths and broken delta chains are bad-format")
    func structure() throws {
        let trust = try trust()
        var m = manifest()
        m.lists["stolen-vehicles"]!.snapshot.path = "../../etc/passwd"
        #expect(reason { _ = try trust.verify(m.signed(by: [manifestKey]), now: Self.now) } == .badFormat)
        m = manifest()
        m.lists["stolen-vehicles"]!.deltas[0].fromVersion = 1
        #expect(reason { _ = try trust.verify(m.signed(by: [manifestKey]), now: Self.now) } == .badFormat)
        #expect(reason { _ = try SignedEnvelope.decode(Data("{\"payload\":1}".utf8)) } == .badFormat)
        #expect(reason { _ = try SignedEnvelope.decode(Data(count: 2 << 20)) } == .tooLarge)
    }

    @Test("root rotation needs the old and the new root keys, one version at a time")
    func rotation() throws {
        var trust = try trust()
        let newRootKey = SigningKey(), newManifestKey = SigningKey()
        let next = root(version: 2, rootKeys: [newRootKey], manifestKeys: [newManifestKey])
        // Signed by the new key only: the old root never vouched for it.
        #expect(reason { try trust.rotate(to: [next.signed(by: [newRootKey])], now: Self.now) } == .badSignature)
        // Signed by the old key only: the new keys never proved possession.
        #expect(reason { try trust.rotate(to: [next.signed(by: [rootKey])], now: Self.now) } == .badSignature)
        // Skipping a version.
        #expect(reason { try trust.rotate(to: [root(version: 3).signed(by: [rootKey])], now: Self.now) } == .badFormat)
        try trust.rotate(to: [next.signed(by: [rootKey, newRootKey])], now: Self.now)
        #expect(trust.root.version == 2)
        // The old manifest key is no longer trusted; the new one is.
        #expect(reason { _ = try trust.verify(manifest().signed(by: [manifestKey]), now: Self.now) } == .badSignature)
        #expect(try trust.verify(manifest().signed(by: [newManifestKey]), now: Self.now).sequence == 5)
        // Replaying version 1 is a rollback.
        #expect(reason { try trust.rotate(to: [root().signed(by: [rootKey])], now: Self.now) } == .rollback)
    }

    @Test("an expired root is refused at rotation")
    func expiredRoot() throws {
        var trust = try trust()
        let next = root(version: 2, expires: Self.now - 1)
        #expect(reason { try trust.rotate(to: [next.signed(by: [rootKey])], now: Self.now) } == .expired)
        #expect(trust.root.version == 1)
    }
}
