import FieldWire
import Foundation
import Watchlist

/// Runs checks on the device: parse the entry, look it up in the cached lists, build the
/// answer, write the check record to the journal, and only then return the answer.
public final class Checker: Sendable {
    public let lists: ListsStore
    public let journal: JournalStore
    private let clock: any TerminalClock
    private let location: @Sendable () -> CheckLocation
    private let admission: @Sendable () throws -> [Notice]
    private let photos: PhotoStore?
    private let fetchForHit: @Sendable ([PhotoReference]) -> Void

    /// - Parameters:
    ///   - location: where the terminal is now; called once per check.
    ///   - admission: called before every recorded check: throws to refuse it (the dead-man
    ///     timer's `lists.expired`), or returns warnings every answer carries.
    ///   - photos: the photo cache: every matched record's photos say whether they are on
    ///     the device, and `fetchForHit` is handed those that are not.
    public init(lists: ListsStore, journal: JournalStore, clock: any TerminalClock = SystemClock(),
                location: @escaping @Sendable () -> CheckLocation = { .notAvailable },
                admission: @escaping @Sendable () throws -> [Notice] = { [] },
                photos: PhotoStore? = nil, fetchForHit: @escaping @Sendable ([PhotoReference]) -> Void = { _ in }) {
        self.photos = photos
        self.fetchForHit = fetchForHit
        self.lists = lists
        self.journal = journal
        self.clock = clock
        self.location = location
        self.admission = admission
    }

    // MARK: Recorded checks

    /// Parses the entry, looks it up, builds the answer and records it in the journal, in
    /// that order: the answer is returned only once its record is durable.
    /// - Throws: `InputError` for an entry that is refused before any lookup (a person check
    ///   without its purpose among them); `StoreError`.
    public func check(_ query: CheckQuery, context: CheckContext) throws -> CheckAnswer {
        let admitted = try admission()
        var answer: CheckAnswer
        switch query {
        case .plate(let raw):
            answer = try answerPlate(Plate(parsing: raw), context: context)
        case .vin(let raw):
            let vin = try VIN(parsing: raw)
            answer = try vehicleAnswer(.vin, query: .init(normalized: vin.value), lookup: lists.stolenVehicles(vin: vin.value),
                                       how: Notice("vin.exact"), context: context)
        case .engineNumber(let raw):
            let number = try EngineNumber(parsing: raw)
            answer = try vehicleAnswer(.engineNumber, query: .init(normalized: number.value),
                                       lookup: lists.stolenVehicles(engineNumber: number.value),
                                       how: Notice("engine-number.exact"), context: context)
        case .personID(let raw):
            let id = try PersonID(parsing: raw)
            try Self.requirePurpose(context)
            answer = try answerPerson(id: id, context: context)
        case .personName(let rawName, let rawDate):
            let (name, dob) = try (PersonName(parsing: rawName), CalendarDate(parsing: rawDate))
            try Self.requirePurpose(context)
            answer = try answerPerson(name: name, dateOfBirth: dob, context: context)
        case .licence(let raw):
            let id = try PersonID(parsing: raw)
            try Self.requirePurpose(context)
            answer = try answerLicence(id: id, context: context)
        }
        answer.add(bulletins: journal.bulletinMatches(for: answer, now: lists.judgementTime(clock), language: context.language))
        if !admitted.isEmpty {
            let said = admitted.map { MessageCatalogue.message($0, in: context.language) }
            answer.warningDetails = said + answer.warningDetails
            answer.warnings = answer.warningDetails.map(\.message)
        }
        if let photos { markPhotos(&answer, photos) }
        return try recorded(answer)
    }

    /// Each matched person's photos say whether they are on the device; the missing ones are
    /// fetched at once (they are what the officer compares the face with).
    private func markPhotos(_ answer: inout CheckAnswer, _ photos: PhotoStore) {
        var missing: [PhotoReference] = []
        for l in answer.lists.indices {
            for m in answer.lists[l].matches.indices {
                missing += answer.lists[l].matches[m].record.markPhotos(onDevice: photos.contains)
            }
        }
        if !missing.isEmpty { fetchForHit(missing) }
    }

    private func answerPerson(name: PersonName, dateOfBirth dob: CalendarDate, context: CheckContext) throws -> CheckAnswer {
        let (wanted, missing) = try lists.people(nameKey: name.foldedKey, dateOfBirth: dob)
        let reason = MessageCatalogue.message(Notice("name-dob"), in: context.language)
        let now = clock.nowMilliseconds
        let judged = lists.judgementTime(clock)
        let results = [
            personResult(.wantedPersons, wanted.meta, wanted.records.map { .init(how: .nameAndDateOfBirth, reason: reason, record: .wantedPerson($0)) }, judged),
            personResult(.missingPersons, missing.meta, missing.records.map { .init(how: .nameAndDateOfBirth, reason: reason, record: .missingPerson($0)) }, judged),
        ]
        return answer(.personName, query: .init(normalized: name.foldedKey, dateOfBirth: dob.description),
                      lists: results, extraWarnings: [], now: now, context: context)
    }

    /// Person checks need a purpose (警察職權行使法 §6, and the audits that follow it); the
    /// entry itself is judged first.
    private static func requirePurpose(_ context: CheckContext) throws {
        guard context.purpose == nil else { return }
        throw InputError(.purposeRequired, field: "purpose", "a person check needs its purpose (checks.purposes; --purpose)")
    }

    private func recorded(_ answer: CheckAnswer) throws -> CheckAnswer {
        try journal.record(answer, now: clock.nowMilliseconds)
        return answer
    }

    // MARK: Answers (no journal: the benchmark measures these on their own)

    /// The plate answer: exact matches are hits, plates that differ only by OCR-confusable
    /// characters are possible hits, strongest evidence of a misread first.
    public func answerPlate(_ plate: Plate, context: CheckContext) throws -> CheckAnswer {
        let (lookup, documents) = try lists.plate(plateKey: plate.foldedKey, plate: plate.compact, documents: Self.plateDocuments)
        let now = clock.nowMilliseconds
        let language = context.language
        var exact: [CheckAnswer.Match] = []
        var near: [CheckAnswer.Match] = []
        for stored in lookup.records {
            if stored.compactPlate == plate.compact {
                exact.append(.init(how: .exact, reason: MessageCatalogue.message(Notice("plate.exact"), in: language),
                                   record: .stolenVehicle(stored.vehicle)))
            } else {
                let comparison = PlateComparison(entered: plate, listedCompact: stored.compactPlate)
                near.append(.init(how: .confusable, reason: comparison.reason(in: language), differences: comparison.differences,
                                  strength: comparison.strength, record: .stolenVehicle(stored.vehicle)))
            }
        }
        near.sort { ($0.strength == .likelyMisread ? 0 : 1, $0.differences?.count ?? 0) < ($1.strength == .likelyMisread ? 0 : 1, $1.differences?.count ?? 0) }
        let outcome: CheckAnswer.Outcome = !exact.isEmpty ? .hit : (near.isEmpty ? .noHit : .possibleHit)
        let result = CheckAnswer.ListResult(list: .stolenVehicles, outcome: outcome,
                                            version: lookup.meta.version(at: lists.judgementTime(clock)), matches: exact + near)
        var warnings: [Notice] = []
        if plate.format == nil {
            if plate.possibleFormats.isEmpty {
                warnings.append(Notice("plate.no-layout"))
            } else {
                warnings.append(Notice("plate.layout-if-misread", ["format": plate.possibleFormats.map(\.rawValue).joined(separator: ",")]))
            }
        }
        var answer = answer(.plate, query: .init(normalized: plate.compact, format: plate.format?.rawValue,
                                                 possibleFormats: plate.format == nil ? plate.possibleFormats.map(\.rawValue) : nil),
                            lists: [result], extraWarnings: warnings, now: now, context: context)
        for (list, found) in documents { answer.add(document: document(list, found, language: language)) }
        return answer
    }

    /// The document lists a plate check reads (registrations).
    private static let plateDocuments = ListSchema.documents(answering: .plate).map(\.list)

    /// The licence answer: the holder's ID against the wanted and missing lists, as an ID
    /// check, and the licence the licences list holds for it.
    public func answerLicence(id: PersonID, context: CheckContext) throws -> CheckAnswer {
        var answer = try answerPerson(id: id, context: context)
        answer.kind = .licence
        try addDocuments(&answer, key: id.value, language: context.language)
        return answer
    }

    // MARK: Documents

    /// Adds what each document list that answers this kind of check says about `key`. A
    /// document list this terminal never received (its fleet carries none) adds nothing:
    /// the check costs what it did without it.
    private func addDocuments(_ answer: inout CheckAnswer, key: String, language: MessageLanguage) throws {
        for schema in ListSchema.documents(answering: answer.kind) where lists.holds(schema.list) {
            answer.add(document: document(schema.list, try lists.records(schema.list, key: key), language: language))
        }
    }

    /// One document list's answer, worded by its mode: a full list that does not hold the
    /// document says none was issued; an exceptions-only list says no invalidity is known.
    func document(_ list: ListKind, _ lookup: ListLookup<[String?]>, language: MessageLanguage) -> DocumentResult {
        let reading = DocumentReading.of(list)
        let meta = lookup.meta
        let version = meta.version(at: lists.judgementTime(clock))
        let term = ["list": list.rawValue, "version": String(meta.version)]
        func result(_ status: String, _ valid: Bool?, _ record: [String?]?, _ notice: Notice) -> DocumentResult {
            DocumentResult(list: list, mode: meta.mode, version: version, status: status, valid: valid,
                           record: record.map(reading.answerFields), statement: MessageCatalogue.message(notice, in: language))
        }
        guard meta.version > 0 else { return result("unknown", nil, nil, Notice("document.never-received", term)) }
        // A valid record first: a plate re-registered after a cancellation is on the road lawfully.
        guard let record = lookup.records.first(where: { $0[reading.statusIndex] == reading.validStatus }) ?? lookup.records.first else {
            return meta.mode == .full
                ? result("not-listed", false, nil, Notice("document.not-listed", term))
                : result("not-listed", true, nil, Notice("document.no-invalidity", term))
        }
        let status = record[reading.statusIndex] ?? ""
        guard status != reading.validStatus else { return result(status, true, record, Notice("document.valid", term)) }
        var arguments = term
        arguments["status"] = status
        let details = reading.detailIndexes.compactMap { record[$0] }.filter { !$0.isEmpty }
        guard !details.isEmpty else { return result(status, false, record, Notice("document.invalid", arguments)) }
        arguments["details"] = details.joined(separator: ", ")
        return result(status, false, record, Notice("document.invalid-details", arguments))
    }

    /// The ID answer: an exact match is a hit. When the ID is invalid, listed IDs one
    /// keystroke away are offered as possible hits. When it is valid but unlisted, a listed ID
    /// one keystroke away is said in a warning: check digits do not catch every slip (two
    /// swapped last digits keep the checksum), and a silent "no hit" would hide the record.
    public func answerPerson(id: PersonID, context: CheckContext) throws -> CheckAnswer {
        var changes: [String: PersonID.NeighbourChange] = [:]
        var values = [id.value]
        for (value, change) in id.neighbours() {
            values.append(value)
            changes[value] = change
        }
        let (wanted, missing) = try lists.people(idNumbers: values)
        let now = clock.nowMilliseconds
        let judged = lists.judgementTime(clock)
        let language = context.language
        var nearby: [Notice] = []
        func matches<R>(_ list: ListKind, _ records: [R], id idNumber: (R) -> String?, _ tag: (R) -> ListedRecord) -> [CheckAnswer.Match] {
            records.compactMap { record in
                let listed = tag(record)
                guard let number = idNumber(record), let change = changes[number] else {
                    return .init(how: .exact, reason: MessageCatalogue.message(Notice("id.exact"), in: language), record: listed)
                }
                let changeText = MessageCatalogue.text(change.notice, in: language)
                guard id.validity == .valid else {
                    return .init(how: .idNeighbour, reason: MessageCatalogue.message(Notice("id.neighbour", ["change": changeText]), in: language),
                                 record: listed)
                }
                nearby.append(Notice("id.listed-neighbour", ["id": number, "list": list.rawValue, "record": listed.recordId, "change": changeText]))
                return nil
            }
        }
        let results = [
            personResult(.wantedPersons, wanted.meta, matches(.wantedPersons, wanted.records, id: \.idNumber, ListedRecord.wantedPerson), judged),
            personResult(.missingPersons, missing.meta, matches(.missingPersons, missing.records, id: \.idNumber, ListedRecord.missingPerson), judged),
        ]
        var warnings: [Notice] = []
        switch id.validity {
        case .valid:
            if !results.contains(where: { $0.outcome == .hit }) { warnings += nearby }
        case .badChecksum:
            warnings.append(Notice("id.bad-checksum"))
        case .badShape:
            warnings.append(Notice("id.bad-shape"))
        }
        return answer(.personID, query: .init(normalized: id.value, format: id.kind?.rawValue, idValidity: id.validity.rawValue),
                      lists: results, extraWarnings: warnings, now: now, context: context)
    }

    // MARK: Assembly

    private func vehicleAnswer(_ kind: CheckAnswer.Kind, query: CheckAnswer.Query, lookup: ListLookup<StoredVehicle>,
                               how: Notice, context: CheckContext) -> CheckAnswer {
        let now = clock.nowMilliseconds
        let reason = MessageCatalogue.message(how, in: context.language)
        let matches = lookup.records.map { CheckAnswer.Match(how: .exact, reason: reason, record: .stolenVehicle($0.vehicle)) }
        let result = CheckAnswer.ListResult(list: .stolenVehicles, outcome: matches.isEmpty ? .noHit : .hit,
                                            version: lookup.meta.version(at: lists.judgementTime(clock)), matches: matches)
        return answer(kind, query: query, lists: [result], extraWarnings: [], now: now, context: context)
    }

    /// - Parameter judged: the judgement time, seconds (`ListsStore.judgementTime`).
    private func personResult(_ list: ListKind, _ meta: ListMeta, _ matches: [CheckAnswer.Match], _ judged: Int64) -> CheckAnswer.ListResult {
        let outcome: CheckAnswer.Outcome
        if matches.contains(where: { $0.how == .exact }) {
            outcome = .hit
        } else {
            outcome = matches.isEmpty ? .noHit : .possibleHit
        }
        let sorted = matches.sorted { ($0.how == .exact ? 0 : 1) < ($1.how == .exact ? 0 : 1) }
        return CheckAnswer.ListResult(list: list, outcome: outcome, version: meta.version(at: judged), matches: sorted)
    }

    private func answer(_ kind: CheckAnswer.Kind, query: CheckAnswer.Query, lists results: [CheckAnswer.ListResult],
                        extraWarnings: [Notice], now: Int64, context: CheckContext) -> CheckAnswer {
        var warnings: [Notice] = []
        for result in results where result.version.stale {
            warnings.append(Notice(result.version.version == 0 ? "list.never-received" : "list.stale", ["list": result.list.rawValue]))
        }
        return CheckAnswer(checkId: UUIDv7.make(milliseconds: now), checkedAt: Timestamp.iso8601(milliseconds: now),
                           kind: kind, query: query, lists: results,
                           warnings: (warnings + extraWarnings).map { MessageCatalogue.message($0, in: context.language) },
                           officerId: context.officerId, unitId: context.unitId, authentication: context.authentication,
                           purpose: context.purpose, location: location(), incidentId: context.incidentId)
    }
}
