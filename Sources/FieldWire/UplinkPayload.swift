import Foundation
import Watchlist

/// A check as the center receives it: the terminal journal's record of it (who, when,
/// where, what was asked, the outcome and which records matched in which list versions —
/// not the records themselves: the center has those).
public struct CheckRecordPayload: Sendable, Equatable, Codable {
    public struct Match: Sendable, Equatable, Codable {
        public var list: String
        public var recordId: String
        public var how: String

        public init(list: String, recordId: String, how: String) {
            (self.list, self.recordId, self.how) = (list, recordId, how)
        }
    }

    /// Also the outbox item's id.
    public var checkId: String
    public var checkedAt: String
    public var officerId: String
    public var unitId: String
    public var kind: String
    /// The normalised entry (and, for a name search, the date of birth).
    public var query: String
    public var outcome: String
    public var matches: [Match]
    /// List name → version.
    public var listVersions: [String: Int64]
    public var location: CheckLocation

    /// The record of an answer.
    public init(_ a: CheckAnswer) {
        checkId = a.checkId
        checkedAt = a.checkedAt
        officerId = a.officerId
        unitId = a.unitId
        kind = a.kind.rawValue
        query = a.query.normalized + (a.query.dateOfBirth.map { " \($0)" } ?? "")
        outcome = a.outcome.rawValue
        matches = a.lists.flatMap { list in
            list.matches.map { Match(list: list.list.rawValue, recordId: $0.record.recordId, how: $0.how.rawValue) }
        }
        listVersions = Dictionary(uniqueKeysWithValues: a.lists.map { ($0.list.rawValue, $0.version.version) })
        var location = a.location
        location.ageSeconds = location.ageSeconds.map { ($0 * 10).rounded() / 10 }
        self.location = location
    }
}

/// A position report kept for the center.
public struct BreadcrumbPayload: Sendable, Equatable, Codable {
    /// The fix's own time, ISO 8601.
    public var fixTime: String
    public var latitude: Double
    public var longitude: Double
    public var speed: Double?
    public var track: Double?
    public var horizontalError: Double?
    public var mode: String

    public init(fixTime: String, latitude: Double, longitude: Double, speed: Double?, track: Double?, horizontalError: Double?,
                mode: String) {
        (self.fixTime, self.latitude, self.longitude, self.speed, self.track) = (fixTime, latitude, longitude, speed, track)
        (self.horizontalError, self.mode) = (horizontalError, mode)
    }
}

/// One change of a dispatch's status, with when, who and where.
public struct DispatchStatusPayload: Sendable, Equatable, Codable {
    public var dispatchId: String
    /// Numbers a dispatch's changes from 1 (`received`, sent by the terminal on its own).
    public var sequence: Int
    public var status: DispatchStatus
    public var disposition: String?
    /// ISO 8601.
    public var at: String
    /// Empty for `received`.
    public var officerId: String
    public var location: CheckLocation

    public init(dispatchId: String, sequence: Int, status: DispatchStatus, disposition: String?, at: String, officerId: String,
                location: CheckLocation) {
        (self.dispatchId, self.sequence, self.status, self.disposition, self.at) = (dispatchId, sequence, status, disposition, at)
        (self.officerId, self.location) = (officerId, location)
    }
}

/// An item's content, by kind.
public enum UplinkPayload: Sendable, Equatable {
    case check(CheckRecordPayload)
    case dispatchStatus(DispatchStatusPayload)
    case breadcrumb(BreadcrumbPayload)

    public var kind: OutboxKind {
        switch self {
        case .check: .check
        case .dispatchStatus: .dispatchStatus
        case .breadcrumb: .breadcrumb
        }
    }

    /// The payload object's JSON, as the outbox stores it and the batch carries it.
    public var json: String { WireJSON.text(self) }

    func encode(to container: inout KeyedEncodingContainer<UplinkItem.CodingKeys>) throws {
        switch self {
        case .check(let p): try container.encode(p, forKey: .payload)
        case .dispatchStatus(let p): try container.encode(p, forKey: .payload)
        case .breadcrumb(let p): try container.encode(p, forKey: .payload)
        }
    }

    init(kind: OutboxKind, from container: KeyedDecodingContainer<UplinkItem.CodingKeys>) throws {
        switch kind {
        case .check: self = .check(try container.decode(CheckRecordPayload.self, forKey: .payload))
        case .dispatchStatus: self = .dispatchStatus(try container.decode(DispatchStatusPayload.self, forKey: .payload))
        case .breadcrumb: self = .breadcrumb(try container.decode(BreadcrumbPayload.self, forKey: .payload))
        }
    }
}

extension UplinkPayload: Encodable {
    /// The payload object alone (`json` is this encoding).
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .check(let p): try p.encode(to: encoder)
        case .dispatchStatus(let p): try p.encode(to: encoder)
        case .breadcrumb(let p): try p.encode(to: encoder)
        }
    }

    /// A stored payload read back by its kind.
    public static func decode(kind: OutboxKind, json: String) throws -> UplinkPayload {
        let data = Data(json.utf8)
        switch kind {
        case .check: return .check(try WireJSON.decode(CheckRecordPayload.self, from: data))
        case .dispatchStatus: return .dispatchStatus(try WireJSON.decode(DispatchStatusPayload.self, from: data))
        case .breadcrumb: return .breadcrumb(try WireJSON.decode(BreadcrumbPayload.self, from: data))
        }
    }
}
