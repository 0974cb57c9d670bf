import FieldWire
import Foundation
import Store

/// What the terminal trusts, and the rules for trusting more, in TUF's order:
/// root rotation (each new root signed by the old root's keys and its own) → manifest
/// signature by the root's manifest keys → sequence not lower than the last trusted
/// (rollback) → not expired against the later of the clock and the last trusted time
/// (freeze), and the root itself not expired against the same. Pure: the caller persists the
/// state it returns.
public struct TrustState: Sendable, Equatable {
    public private(set) var root: RootMetadata
    /// The sequence of the last manifest accepted (0 before the first).
    public private(set) var lastSequence: Int64
    /// The latest issuedAt seen in a trusted manifest: a clock set back cannot make an
    /// expired manifest current again.
    public private(set) var lastTrustedTime: Int64

    public init(root: RootMetadata, lastSequence: Int64 = 0, lastTrustedTime: Int64 = 0) throws {
        try root.validate()
        self.root = root
        self.lastSequence = lastSequence
        self.lastTrustedTime = lastTrustedTime
    }

    /// Trusts the first root from the device's provisioning (its own signatures must hold).
    public static func bootstrap(_ envelope: SignedEnvelope) throws -> TrustState {
        try TrustState(root: RootMetadata.selfSigned(envelope))
    }

    /// Whether the last rotation lowered the sequence floor (`resetManifestSequence`).
    public private(set) var floorWasReset = false

    /// Applies newer roots, in order. Each must be exactly the next version and signed by a
    /// threshold of both the trusted root's root keys and its own. A root that says
    /// `resetManifestSequence` sets the sequence floor to it.
    public mutating func rotate(to envelopes: [SignedEnvelope], now: Int64) throws {
        var current = root
        var sequence = lastSequence
        var reset = false
        for envelope in envelopes {
            let next = try RootMetadata.decode(envelope)
            guard next.version > current.version else {
                throw SyncFailure(.rollback, "root version \(next.version) is not newer than trusted \(current.version)")
            }
            guard next.version == current.version + 1 else {
                throw SyncFailure(.badFormat, "root version \(next.version) skips \(current.version + 1)")
            }
            try next.validate()
            _ = try envelope.verifiedPayload(type: SignedEnvelope.rootType, keys: current.publicKeys(current.root),
                                             threshold: current.root.threshold)
            _ = try envelope.verifiedPayload(type: SignedEnvelope.rootType, keys: next.publicKeys(next.root),
                                             threshold: next.root.threshold)
            if let floor = next.resetManifestSequence {
                sequence = floor
                reset = true
            }
            current = next
        }
        guard current.expires > max(now, lastTrustedTime) else {
            throw SyncFailure(.expired, "root version \(current.version) expired")
        }
        root = current
        lastSequence = sequence
        floorWasReset = floorWasReset || reset
    }

    /// Verifies a manifest against the trusted root and the rollback and freeze rules.
    /// Does not change the state: call `accept` once the manifest's lists are applied.
    public func verify(_ envelope: SignedEnvelope, now: Int64) throws -> Manifest {
        // A trusted root past its expiry vouches for nothing, however it got here.
        guard root.expires > max(now, lastTrustedTime) else {
            throw SyncFailure(.expired, "the trusted root (version \(root.version)) expired \(max(now, lastTrustedTime) - root.expires) s ago: the center must publish a new root")
        }
        let payload = try envelope.verifiedPayload(type: SignedEnvelope.manifestType, keys: root.publicKeys(root.manifest),
                                                   threshold: root.manifest.threshold)
        let manifest: Manifest
        do {
            manifest = try WireJSON.decode(Manifest.self, from: payload)
        } catch {
            throw SyncFailure(.badFormat, "manifest: \(error)")
        }
        guard manifest.sequence >= lastSequence else {
            throw SyncFailure(.rollback, "manifest sequence \(manifest.sequence) is lower than trusted \(lastSequence)")
        }
        let reference = max(now, lastTrustedTime)
        guard manifest.expiresAt > reference else {
            throw SyncFailure(.expired, "manifest \(manifest.sequence) expired \(reference - manifest.expiresAt) s ago")
        }
        try manifest.validate()
        return manifest
    }

    /// Records a manifest whose lists were applied.
    public mutating func accept(_ manifest: Manifest) {
        lastSequence = max(lastSequence, manifest.sequence)
        lastTrustedTime = max(lastTrustedTime, manifest.issuedAt)
    }
}

extension TrustState {
    /// What the terminal trusts: the newest of the provisioned root (a technician may have
    /// re-provisioned the terminal), the one stored with the lists and the one kept in the
    /// journal; and the highest sequence floor and trusted time of the two stores — the
    /// journal's copy survives lists.db being lost (or wiped).
    /// - Returns: the state and the trusted root's envelope as stored.
    public static func current(provisionedRoot: URL, stored: SyncState?, floor: TrustFloor?) throws -> (TrustState, Data) {
        let path = provisionedRoot.path
        guard let provisioned = FileManager.default.contents(atPath: path) else {
            throw SyncFailure(.trustRoot, "cannot read the provisioned trust root \(path)")
        }
        let fromFile: RootMetadata
        do {
            fromFile = try RootMetadata.selfSigned(SignedEnvelope.decode(provisioned))
        } catch let failure as SyncFailure {
            throw SyncFailure(.trustRoot, "\(path) is not a valid self-signed root: \(failure.message)")
        }
        var best = (root: fromFile, envelope: provisioned)
        for envelope in [stored?.root, floor?.root].compactMap({ $0 }) {
            let root = try RootMetadata.selfSigned(SignedEnvelope.decode(envelope))
            if root.version > best.root.version { best = (root, envelope) }
        }
        let sequence = max(stored?.manifestSequence ?? 0, floor?.manifestSequence ?? 0)
        let time = max(stored?.trustedTime ?? 0, floor?.trustedTime ?? 0)
        return (try TrustState(root: best.root, lastSequence: sequence, lastTrustedTime: time), best.envelope)
    }
}
