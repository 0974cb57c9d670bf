import Crypto
import Foundation
import Watchlist

/// An order from the center to one terminal (docs/sync-protocol.md, "Orders"): lock it,
/// unlock it, wipe its lists, or wipe everything. Signed by the root's `orders` role, so the
/// manifest key alone cannot lock or wipe a fleet; addressed to one unit and optionally to
/// one device certificate; numbered per unit, so an order is executed once and an old one
/// cannot be replayed; valid until `expiresAt`.
public struct TerminalOrder: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The API refuses everything but status, orders and a technician's unlock.
        case lock
        case unlock
        /// Every lists generation and cached download; the terminal stays locked.
        case wipeLists = "wipe-lists"
        /// The lists, then the journal, the device key and certificate, and (when the
        /// terminal has `security.luks_device` and the order says so) the LUKS key slots.
        case wipeAll = "wipe-all"

        public var wipes: Bool { self == .wipeLists || self == .wipeAll }
    }

    public var kind: Kind
    public var unit: String
    /// Lower-case hex SHA-256 of the device certificate's DER: only that terminal obeys.
    public var certificateSHA256: String?
    /// Per unit, from 1; a terminal executes each number once, in order.
    public var sequence: Int64
    /// Unix seconds.
    public var issuedAt: Int64
    /// Unix seconds; judged against the terminal's judged time (never its clock set back).
    public var expiresAt: Int64
    /// With `wipe-all`: also erase the state partition's LUKS key slots.
    public var eraseKeySlots: Bool?

    public init(kind: Kind, unit: String, certificateSHA256: String? = nil, sequence: Int64, issuedAt: Int64, expiresAt: Int64,
                eraseKeySlots: Bool? = nil) {
        (self.kind, self.unit, self.certificateSHA256, self.sequence) = (kind, unit, certificateSHA256, sequence)
        (self.issuedAt, self.expiresAt, self.eraseKeySlots) = (issuedAt, expiresAt, eraseKeySlots)
    }

    public func signed(by keys: [SigningKey]) throws -> SignedEnvelope {
        try SignedEnvelope(payloadType: SignedEnvelope.orderType, payload: WireJSON.encode(self), signers: keys)
    }

    /// Who the terminal is, for `verify`.
    public struct Recipient: Sendable, Equatable {
        public var unit: String
        /// Of the device certificate in use; nil when it cannot be read.
        public var certificateSHA256: String?
        /// The highest sequence already executed (0 before the first order).
        public var lastSequence: Int64

        public init(unit: String, certificateSHA256: String?, lastSequence: Int64) {
            (self.unit, self.certificateSHA256, self.lastSequence) = (unit, certificateSHA256, lastSequence)
        }
    }

    /// The order in `envelope` if the terminal must execute it, checked in this order:
    /// structure → signature by the root's orders role (a valid signature by another role's
    /// key is `wrong-role`) → unit → certificate → sequence (replay) → expiry. Pure.
    /// - Parameter now: the judged time, Unix seconds.
    /// - Throws: `OrderRefusal` with its stable code.
    public static func verify(_ envelope: SignedEnvelope, root: RootMetadata, recipient: Recipient, now: Int64) throws -> TerminalOrder {
        guard envelope.payloadType == SignedEnvelope.orderType, let bytes = Data(base64Encoded: envelope.payload) else {
            throw OrderRefusal(.badFormat, "not an order document (payload type \(envelope.payloadType))")
        }
        let order: TerminalOrder
        do {
            order = try WireJSON.decode(TerminalOrder.self, from: bytes)
        } catch {
            throw OrderRefusal(.badFormat, "order: \(error)")
        }
        guard let role = root.orders else {
            throw OrderRefusal(.noRole, "the trusted root (version \(root.version)) names no orders keys")
        }
        let signature: RootMetadata.RoleSignature
        do {
            signature = try root.signature(of: envelope, by: role)
        } catch {
            throw OrderRefusal(.noRole, "the trusted root's orders keys cannot be read")
        }
        switch signature {
        case .valid: break
        case .otherRole: throw OrderRefusal(.wrongRole, "order \(order.sequence) is signed by a root or manifest key, not an orders key")
        case .invalid: throw OrderRefusal(.badSignature, "order \(order.sequence) has no valid signature by \(role.threshold) orders key(s)")
        }
        guard order.unit == recipient.unit else {
            throw OrderRefusal(.otherUnit, "order \(order.sequence) is for unit \(order.unit), this terminal is unit \(recipient.unit)")
        }
        if let wanted = order.certificateSHA256, wanted.lowercased() != recipient.certificateSHA256 {
            throw OrderRefusal(.otherCertificate, "order \(order.sequence) is for another device certificate (\(wanted.prefix(16))…)")
        }
        guard order.sequence > recipient.lastSequence else {
            throw OrderRefusal(.replayed, "order \(order.sequence) is not newer than the last executed, \(recipient.lastSequence)")
        }
        guard order.expiresAt > now else {
            throw OrderRefusal(.expired, "order \(order.sequence) expired \(now - order.expiresAt) s ago")
        }
        return order
    }
}

/// Why a terminal refused an order. The codes are stable: acknowledged to the center,
/// answered by `POST /v1/orders`, documented in docs/sync-protocol.md.
public typealias OrderRefusal = CodedError<OrderRefusalCode>

public enum OrderRefusalCode: String, Sendable, Codable, CaseIterable {
    case badFormat = "order.bad-format"
    /// No valid signature by enough keys of the root's orders role.
    case badSignature = "order.bad-signature"
    /// Validly signed — by a root or manifest key, which may not give orders.
    case wrongRole = "order.wrong-role"
    /// The trusted root has no orders role.
    case noRole = "order.no-role"
    case otherUnit = "order.other-unit"
    case otherCertificate = "order.other-certificate"
    /// A sequence not above the last executed one.
    case replayed = "order.replayed"
    case expired = "order.expired"
}

/// `orders/<unit>.json` beside the manifest, and the orders part of a dispatch poll: a
/// unit's unexpired orders, each signed on its own, oldest first.
public struct OrderFeed: Codable, Sendable, Equatable {
    public var orders: [SignedEnvelope]

    public init(orders: [SignedEnvelope]) { self.orders = orders }

    /// The published file's path for `unit`.
    public static func path(unit: String) -> String { "orders/\(unit).json" }
}

/// What a terminal did with an order, sent through the outbox (`order-ack`).
public struct OrderAckPayload: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case executed
        case refused
    }

    public var unitId: String
    /// nil when the order could not be read far enough to know it.
    public var sequence: Int64?
    public var kind: TerminalOrder.Kind?
    public var outcome: Outcome
    /// The refusal's code.
    public var reason: String?
    /// ISO 8601.
    public var at: String
    /// SHA-256 of the envelope as received: which document this answers.
    public var envelopeSHA256: String

    public init(unitId: String, sequence: Int64?, kind: TerminalOrder.Kind?, outcome: Outcome, reason: String?, at: String,
                envelopeSHA256: String) {
        (self.unitId, self.sequence, self.kind, self.outcome, self.reason) = (unitId, sequence, kind, outcome, reason)
        (self.at, self.envelopeSHA256) = (at, envelopeSHA256)
    }
}

/// SHA-256 of a device certificate's DER (the first certificate of a PEM file): what an
/// order's `certificateSHA256` names, as `openssl x509 -outform der | sha256sum` prints it.
public enum CertificateFingerprint {
    public static func sha256(pem: Data) -> String? {
        guard let text = String(data: pem, encoding: .utf8),
              let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex) else { return nil }
        let body = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(body)) else { return nil }
        return SHA256Hex.of(der)
    }
}
