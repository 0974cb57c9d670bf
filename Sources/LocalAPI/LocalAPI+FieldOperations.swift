import FieldWire
import Foundation
import Hummingbird
import LocalAPIContract
import Store
import Watchlist

/// The field side of dispatch (docs/api/openapi.yaml, "Field operations"): the emergency
/// button, the unit's status, the stops an officer starts, and what happened after a hit.
/// Each change is journalled and queued for the center in one transaction.
extension LocalAPI {
    static func fieldOperationRoutes(_ v1: RecordedRoutes, _ body: RequestReader, _ d: Dependencies) {
        // "Officer needs help": pressed by whoever holds the terminal — a locked screen or
        // nobody signed in does not stop it; the officer's PIN (or a technician) cancels it.
        v1.get("emergency") { _, _ in
            JSONBody.response(EmergencyState(active: try d.journal.activeEmergency(), recent: try d.journal.emergencies()))
        }
        v1.post("emergency") { _, _ in
            let (emergency, raised) = try d.journal.raiseEmergency(officerId: d.session.current?.officerId ?? "", unitId: d.session.unitId,
                                                                   location: d.location?().forCheck ?? .notAvailable,
                                                                   now: d.clock.nowMilliseconds)
            if raised { d.events.publish(AgentEvent(.emergencyActive, emergency)) }
            return JSONBody.response(emergency, status: raised ? .created : .ok)
        }
        v1.post("emergency/cancel") { request, context in
            let cancel = try await body.read(EmergencyCancelRequest.self, request, logger: context.logger)
            guard try d.journal.activeEmergency() != nil else {
                throw FieldOperationError(.noEmergency, "no emergency is active on this terminal")
            }
            let by = try await d.session.confirm(pin: cancel.pin, by: context.actor)
            let cleared = try d.journal.clearEmergency(by: by, unitId: d.session.unitId, location: d.location?().forCheck ?? .notAvailable,
                                                       now: d.clock.nowMilliseconds)
            d.events.publish(AgentEvent(.emergencyCleared, cleared))
            return JSONBody.response(cleared)
        }

        v1.post("unit-status") { request, context in
            let change = try await body.read(UnitStatusRequest.self, request, logger: context.logger)
            guard let status = UnitStatus(rawValue: change.status) else {
                throw APIError(.badRequest, "request.bad-value",
                               "status must be one of \(UnitStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            let officer = try d.session.context()
            return JSONBody.response(try d.journal.setUnitStatus(status, officerId: officer.officerId, unitId: officer.unitId,
                                                                 location: d.location?().forCheck ?? .notAvailable,
                                                                 now: d.clock.nowMilliseconds))
        }

        v1.get("incidents") { _, _ in JSONBody.response(IncidentList(incidents: try d.journal.incidents())) }
        v1.get("incidents/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let incident = try d.journal.incident(id: id) else {
                throw FieldOperationError(.unknownIncident, "no stop \(id) on this terminal")
            }
            return JSONBody.response(incident)
        }
        v1.post("incidents") { request, context in
            let open = try await body.read(IncidentRequest.self, request, logger: context.logger)
            guard let kind = IncidentKind(rawValue: open.kind) else {
                throw APIError(.badRequest, "request.bad-value",
                               "kind must be one of \(IncidentKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
            }
            let officer = try d.session.context()
            let incident = try d.journal.openIncident(kind, note: try Self.note(open.note), officerId: officer.officerId,
                                                      unitId: officer.unitId, location: d.location?().forCheck ?? .notAvailable,
                                                      now: d.clock.nowMilliseconds)
            return JSONBody.response(incident, status: .created)
        }
        v1.post("incidents/:id/close") { request, context in
            let id = try context.parameters.require("id")
            let close = try await body.read(IncidentCloseRequest.self, request, logger: context.logger)
            let officer = try d.session.context()
            return JSONBody.response(try d.journal.closeIncident(id, note: try Self.note(close.note), officerId: officer.officerId,
                                                                 unitId: officer.unitId, location: d.location?().forCheck ?? .notAvailable,
                                                                 now: d.clock.nowMilliseconds))
        }

        v1.post("checks/:checkId/outcome") { request, context in
            let checkId = try Self.checkId(context)
            let recorded = try await body.read(HitOutcomeRequest.self, request, logger: context.logger)
            guard let outcome = HitOutcome(rawValue: recorded.outcome) else {
                throw APIError(.badRequest, "request.bad-value",
                               "outcome must be one of \(HitOutcome.allCases.map(\.rawValue).joined(separator: ", "))", field: "outcome")
            }
            let officer = try d.session.context()
            return JSONBody.response(try d.journal.recordHitOutcome(checkId: checkId, outcome, note: try Self.note(recorded.note),
                                                                    officerId: officer.officerId, unitId: officer.unitId,
                                                                    now: d.clock.nowMilliseconds),
                                     status: .created)
        }
    }

    /// A free-text note: trimmed, empty as none, at most 500 characters.
    static func note(_ text: String?) throws -> String? {
        guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        guard trimmed.count <= 500 else {
            throw APIError(.badRequest, "request.bad-value", "the note is \(trimmed.count) characters; at most 500", field: "note")
        }
        return trimmed
    }
}
