import Foundation
import Watchlist

/// An urgent bulletin ("be on the lookout") from the center (docs/sync-protocol.md,
/// "Bulletins"): a plate, an ID or a name with a date of birth that every check on the
/// terminals of a region matches at once, until it expires. Signed by the root's manifest
/// role — the key that vouches for the lists vouches for their urgent overlay — and numbered
/// by the center (`serial`), so a terminal resumes the push after the last one it holds.
public struct Bulletin: Codable, Sendable, Equatable {
    public enum SubjectKind: String, Codable, Sendable, CaseIterable {
        case plate
        case personID = "person-id"
        case personName = "person-name"
    }

    /// Who or what to look out for, normalised as a check normalises its entry.
    public struct Subject: Codable, Sendable, Equatable {
        public var kind: SubjectKind
        /// A plate's compact form (`ABC1234`), an ID's upper-case form, or a name's folded key.
        public var value: String
        /// A name as the center wrote it (person-name only; the folded key is `value`).
        public var name: String?
        /// `YYYY-MM-DD` (person-name only).
        public var dateOfBirth: String?

        public init(kind: SubjectKind, value: String, name: String? = nil, dateOfBirth: String? = nil) {
            (self.kind, self.value, self.name, self.dateOfBirth) = (kind, value, name, dateOfBirth)
        }

        /// A plate as entered.
        public static func plate(_ raw: String) throws -> Subject {
            Subject(kind: .plate, value: try Plate(parsing: raw).compact)
        }

        /// A national ID or resident number as entered.
        public static func personID(_ raw: String) throws -> Subject {
            Subject(kind: .personID, value: try PersonID(parsing: raw).value)
        }

        /// A name with a date of birth as entered.
        public static func person(name raw: String, dateOfBirth rawDate: String) throws -> Subject {
            let name = try PersonName(parsing: raw)
            return Subject(kind: .personName, value: name.foldedKey, name: raw.trimmingCharacters(in: .whitespaces),
                           dateOfBirth: try CalendarDate(parsing: rawDate).description)
        }

        /// What the officer's screen shows: the plate, the ID, or the name and date of birth.
        public var shown: String {
            switch kind {
            case .plate, .personID: value
            case .personName: "\(name ?? value) \(dateOfBirth ?? "")"
            }
        }
    }

    /// UUIDv7, made by the center.
    public var id: String
    /// The center's numbering of bulletins, from 1: the push resumes after it.
    public var serial: Int64
    public var subject: Subject
    /// The region it is for (as terminals set `terminal.region`); nil: every region.
    public var region: String?
    /// Why: the words the officer reads ("getaway car of the 14:05 robbery, two armed men").
    public var summary: String
    /// Unix seconds.
    public var issuedAt: Int64
    /// Unix seconds; judged by the terminal's judged time (never its clock set back).
    public var expiresAt: Int64

    public init(id: String, serial: Int64, subject: Subject, region: String?, summary: String, issuedAt: Int64, expiresAt: Int64) {
        (self.id, self.serial, self.subject, self.region, self.summary) = (id, serial, subject, region, summary)
        (self.issuedAt, self.expiresAt) = (issuedAt, expiresAt)
    }

    public static let maxSummaryCharacters = 500

    public func signed(by keys: [SigningKey]) throws -> SignedEnvelope {
        try SignedEnvelope(payloadType: SignedEnvelope.bulletinType, payload: WireJSON.encode(self), signers: keys)
    }

    /// The bulletin in `envelope` if this terminal must match it, checked in this order:
    /// structure → signature by the root's manifest role (a valid signature by a root or
    /// orders key is `wrong-role`) → expiry → region → replay. Pure.
    /// - Parameters:
    ///   - region: this terminal's region; nil takes every region's bulletins.
    ///   - now: the judged time, Unix seconds.
    ///   - known: whether a bulletin id was received before (held, or expired and dropped).
    /// - Throws: `BulletinRefusal` with its stable code.
    public static func verify(_ envelope: SignedEnvelope, root: RootMetadata, region: String?, now: Int64,
                              known: (String) -> Bool) throws -> Bulletin {
        guard envelope.payloadType == SignedEnvelope.bulletinType, let bytes = Data(base64Encoded: envelope.payload) else {
            throw BulletinRefusal(.badFormat, "not a bulletin (payload type \(envelope.payloadType))")
        }
        let bulletin: Bulletin
        do {
            bulletin = try WireJSON.decode(Bulletin.self, from: bytes)
        } catch {
            throw BulletinRefusal(.badFormat, "bulletin: \(error)")
        }
        try bulletin.validate()
        switch (try? root.signature(of: envelope, by: root.manifest)) ?? .invalid {
        case .valid: break
        case .otherRole: throw BulletinRefusal(.wrongRole, "bulletin \(bulletin.id) is signed by a root or orders key, not a manifest key")
        case .invalid: throw BulletinRefusal(.badSignature, "bulletin \(bulletin.id) has no valid signature by \(root.manifest.threshold) manifest key(s)")
        }
        guard bulletin.expiresAt > now else {
            throw BulletinRefusal(.expired, "bulletin \(bulletin.id) expired \(now - bulletin.expiresAt) s ago")
        }
        if let wanted = bulletin.region, let region, wanted != region {
            throw BulletinRefusal(.otherRegion, "bulletin \(bulletin.id) is for region \(wanted), this terminal is in \(region)")
        }
        guard !known(bulletin.id) else {
            throw BulletinRefusal(.replayed, "bulletin \(bulletin.id) was received before")
        }
        return bulletin
    }

    /// Structure: an id, a serial, a subject in its normalised form, words, times in order.
    public func validate() throws {
        func fail(_ why: String) -> BulletinRefusal { BulletinRefusal(.badFormat, "bulletin \(id.prefix(40)): \(why)") }
        guard UUIDv7.isValid(id) else { throw fail("the id is not a UUIDv7") }
        guard serial > 0, issuedAt > 0, expiresAt > issuedAt else { throw fail("serial, issuedAt and expiresAt out of order") }
        guard !summary.isEmpty, summary.count <= Self.maxSummaryCharacters else { throw fail("the summary must be 1 to 500 characters") }
        if let region { guard (1...32).contains(region.count) else { throw fail("the region must be 1 to 32 characters") } }
        let normal: String?
        switch subject.kind {
        case .plate: normal = try? Plate(parsing: subject.value).compact
        case .personID: normal = try? PersonID(parsing: subject.value).value
        case .personName:
            normal = subject.dateOfBirth.flatMap { try? CalendarDate(parsing: $0) } != nil ? subject.value : nil
        }
        guard let normal, normal == subject.value, !normal.isEmpty else { throw fail("the subject is not in its normalised form") }
    }
}

extension SignedEnvelope {
    public static let bulletinType = "application/vnd.mpolice.bulletin+json"
}

/// Why a terminal refused a bulletin; stable codes (docs/sync-protocol.md, "Bulletins").
public typealias BulletinRefusal = CodedError<BulletinRefusalCode>

public enum BulletinRefusalCode: String, Sendable, Codable, CaseIterable {
    case badFormat = "bulletin.bad-format"
    /// No valid signature by enough manifest keys.
    case badSignature = "bulletin.bad-signature"
    /// Validly signed — by a root or orders key, which may not issue bulletins.
    case wrongRole = "bulletin.wrong-role"
    case expired = "bulletin.expired"
    /// Received before (held, or expired and dropped): not taken again.
    case replayed = "bulletin.replayed"
    /// For another region than this terminal's.
    case otherRegion = "bulletin.other-region"
}

/// `POST /v1/checks/{checkId}/confirm` through the outbox (`hit-confirmation`): the check's
/// query and what it matched, for the center to confirm against its current records.
public struct HitConfirmationRequest: Sendable, Equatable, Codable {
    /// Also the outbox item's id; the answer names it.
    public var requestId: String
    public var checkId: String
    /// The check's kind (`plate`, `person-id`, …) and normalised query.
    public var kind: String
    public var query: String
    public var matches: [CheckRecordPayload.Match]
    /// 10 minutes to answer when urgent, an hour otherwise.
    public var urgent: Bool
    /// ISO 8601.
    public var requestedAt: String
    /// ISO 8601: when the terminal raises the request as overdue.
    public var deadline: String
    public var officerId: String
    public var unitId: String

    public init(requestId: String, checkId: String, kind: String, query: String, matches: [CheckRecordPayload.Match], urgent: Bool,
                requestedAt: String, deadline: String, officerId: String, unitId: String) {
        (self.requestId, self.checkId, self.kind, self.query, self.matches) = (requestId, checkId, kind, query, matches)
        (self.urgent, self.requestedAt, self.deadline, self.officerId, self.unitId) = (urgent, requestedAt, deadline, officerId, unitId)
    }

    /// Seconds the center has to answer.
    public static func answerWithin(urgent: Bool) -> Int64 { urgent ? 600 : 3_600 }
}

/// The center's answer to a confirmation request, over the dispatch long poll.
public struct HitConfirmationAnswer: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// The center holds the record, active: act on it.
        case stillActive = "still-active"
        /// The center held it, and it was cleared or withdrawn (the terminal's lists are behind).
        case noLongerActive = "no-longer-active"
        /// The center has no such record.
        case notFound = "not-found"
    }

    public struct Record: Sendable, Equatable, Codable {
        /// `stolen-vehicles`, `wanted-persons`, `missing-persons` or `bulletins`.
        public var list: String
        public var recordId: String
        public var state: State
        /// The record as the center holds it now (column → value; for a withdrawn record, as it was).
        public var fields: [String: String]?
        /// When it was withdrawn (ISO 8601), for `no-longer-active`.
        public var since: String?

        public init(list: String, recordId: String, state: State, fields: [String: String]? = nil, since: String? = nil) {
            (self.list, self.recordId, self.state, self.fields, self.since) = (list, recordId, state, fields, since)
        }
    }

    /// The center's numbering of the unit's answers: the poll resumes after it.
    public var cursor: Int64
    public var requestId: String
    public var checkId: String
    /// Over all records: still-active if any is, else no-longer-active if any is, else not-found.
    public var state: State
    public var records: [Record]
    /// ISO 8601, at the center.
    public var answeredAt: String

    public init(cursor: Int64, requestId: String, checkId: String, records: [Record], answeredAt: String) {
        (self.cursor, self.requestId, self.checkId, self.records, self.answeredAt) = (cursor, requestId, checkId, records, answeredAt)
        state = Self.overall(records)
    }

    public static func overall(_ records: [Record]) -> State {
        if records.contains(where: { $0.state == .stillActive }) { return .stillActive }
        if records.contains(where: { $0.state == .noLongerActive }) { return .noLongerActive }
        return .notFound
    }
}
