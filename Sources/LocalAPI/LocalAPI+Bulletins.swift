import FieldWire
import Foundation
import Hummingbird
import LocalAPIContract
import Store
import Watchlist

/// Urgent bulletins and hit confirmation (docs/api/openapi.yaml, "Bulletins and
/// confirmation"): the bulletins every check matches, one check with its confirmation and
/// outcome, and the request that asks the center to confirm a hit.
extension LocalAPI {
    static func bulletinRoutes(_ v1: RecordedRoutes, _ body: RequestReader, _ d: Dependencies) {
        v1.get("bulletins") { _, _ in
            _ = try d.session.context()
            let held = try d.journal.activeBulletins(now: d.lists.judgementTime(d.clock))
            return JSONBody.response(BulletinList(bulletins: held.map(BulletinView.init)))
        }

        // One of the signed-in officer's checks: the record, the center's confirmation, the outcome.
        v1.get("checks/:checkId") { _, context in
            let checkId = try Self.checkId(context)
            let officer = try d.session.context()
            guard let check = try d.journal.check(id: checkId), check.officerId == officer.officerId || context.actor == .technician else {
                throw FieldOperationError(.unknownCheck, "no check \(checkId) of this officer in the journal")
            }
            return JSONBody.response(CheckDetail(check: check, confirmation: try d.journal.confirmation(checkId: checkId),
                                                 outcome: try d.journal.hitOutcome(checkId: checkId)))
        }

        // Queued first in the outbox; the answer comes over the long poll (`hit-confirmation`).
        v1.post("checks/:checkId/confirm") { request, context in
            let checkId = try Self.checkId(context)
            let asked = try await body.read(ConfirmationRequest.self, request, logger: context.logger)
            let officer = try d.session.context()
            let (confirmation, new) = try d.journal.requestConfirmation(checkId: checkId, urgent: asked.urgent ?? true,
                                                                        officerId: officer.officerId, unitId: officer.unitId,
                                                                        now: d.clock.nowMilliseconds)
            return JSONBody.response(confirmation, status: new ? .created : .ok)
        }
    }

    /// A check id from the path: a UUIDv7 as the answers give it.
    static func checkId(_ context: APIRequestContext) throws -> String {
        let id = try context.parameters.require("checkId")
        guard UUIDv7.isValid(id) else {
            throw APIError(.badRequest, "request.bad-value", "the check id must be a check's UUID, as its answer gives it", field: "checkId")
        }
        return id
    }
}
