import GRDB
import Watchlist

extension ListsStore {
    /// Every photo the lists name, in prefetch order: wanted persons flagged armed or violent,
    /// missing persons flagged vulnerable, then records of the terminal's own region, then
    /// the rest (record id order within each; a record's photos together, as listed).
    /// - Parameter region: a place name (`[photos] region`, e.g. `臺北`) looked for in the
    ///   wanted person's issuing authority or the missing person's contact unit; nil: none.
    public func photoPlan(region: String?) throws -> [PhotoReference] {
        try lookup { db in
            let fields = try String.fetchAll(db, sql: """
                SELECT photos FROM (
                    SELECT photos, record_id,
                           CASE WHEN instr(caution_flags, 'armed') > 0 OR instr(caution_flags, 'violent') > 0 THEN 0
                                WHEN ?1 IS NOT NULL AND instr(issuing_authority, ?1) > 0 THEN 2 ELSE 3 END AS priority
                    FROM wanted_person WHERE photos IS NOT NULL
                    UNION ALL
                    SELECT photos, record_id,
                           CASE WHEN vulnerable = 1 THEN 1
                                WHEN ?1 IS NOT NULL AND instr(contact_unit, ?1) > 0 THEN 2 ELSE 3 END
                    FROM missing_person WHERE photos IS NOT NULL
                ) ORDER BY priority, record_id
                """, arguments: [region])
            return fields.flatMap { PhotoReference.parse(field: $0) ?? [] }
        }
    }
}
