import ArgumentParser
import Foundation
import LocalAPIContract
import Store
import Watchlist

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a plate, VIN, engine number, person or driving licence against the cached lists.",
        discussion: """
            mpolicectl check plate ABC-1234            exact and OCR-confusable matches
            mpolicectl check vin RFBSA1A25MB104471     a 17-character VIN
            mpolicectl check engine G3K6E1234567       an engine number as stamped
            mpolicectl check person --id A123456789 --purpose law-6-1
            mpolicectl check person --name 陳淑芬 --dob 民國35年7月30日 --purpose dispatch --purpose-ref D-2026-0042
            mpolicectl check licence H123456789 --purpose traffic-stop   the licence, and the ID as a person check
            mpolicectl check show CHECK-ID             a recorded check, the center's confirmation, the outcome

            Every check is recorded in the journal before its answer is printed. Through the
            daemon the signed-in officer (`mpolicectl signin`) is recorded; with --db, --officer,
            as a technician. Person and licence checks need --purpose (docs/checks.md, "Purpose").
            A plate answer also says the plate's registration when the terminal holds the
            registrations list (docs/checks.md, "Documents").
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case plate, vin, engine, person, licence, show
    }

    @Argument(help: "What to check: plate, vin, engine, person or licence; or show a recorded check.") var kind: Kind
    @Argument(help: "The plate, VIN, engine number or licence holder's ID as read (person: --id, or --name with --dob; show: the check's id).") var value: String?
    @Option(help: "Person: national ID or resident certificate number.") var id: String?
    @Option(help: "Person: full name (with --dob).") var name: String?
    @Option(help: "Person: date of birth, YYYY-MM-DD or 民國YY年MM月DD日 (with --name).") var dob: String?
    @Option(help: "Why: a purpose code (law-6-1 … law-6-6, dispatch, case, traffic-stop); required for person and licence checks.")
    var purpose: String?
    @Option(name: .customLong("purpose-ref"), help: "The dispatch id or case number the purpose names.")
    var purposeReference: String?
    @OptionGroup var store: StoreOptions

    @Option(help: "With --db: the officer's id (recorded with the check).")
    var officer: String = ProcessInfo.processInfo.environment["MPOLICE_OFFICER"] ?? ""

    @Option(help: "With --db: the unit's id (recorded with the check).")
    var unit: String = ProcessInfo.processInfo.environment["MPOLICE_UNIT"] ?? "local"

    @Option(help: ArgumentHelp("Write the matched persons' photos to this directory (<record>-<kind>-<sha256 prefix>.jpg).",
                               valueName: "dir"))
    var photos: String?

    @Option(name: .customLong("photo-wait"), help: "Through the daemon: seconds to wait for photos not on the terminal yet (it fetches a hit's at once).")
    var photoWait: Double = 30

    /// What to ask, from the arguments.
    var query: CheckQuery {
        get throws {
            switch (kind, value, id, name, dob) {
            case (.plate, let v?, nil, nil, nil): return .plate(v)
            case (.vin, let v?, nil, nil, nil): return .vin(v)
            case (.engine, let v?, nil, nil, nil): return .engineNumber(v)
            case (.licence, let v?, nil, nil, nil): return .licence(v)
            case (.person, nil, let id?, nil, nil): return .personID(id)
            case (.person, nil, nil, let name?, let dob?): return .personName(name: name, dateOfBirth: dob)
            case (.person, _, _, _, _): throw ValidationError("check person takes --id, or --name with --dob")
            case (.show, _, _, _, _): throw ValidationError("check show shows a recorded check; it asks nothing")
            default: throw ValidationError("check \(kind.rawValue) takes the value to check and no person options")
            }
        }
    }

    func validate() throws {
        if kind == .show {
            guard value != nil, id == nil, name == nil, dob == nil, purpose == nil else {
                throw ValidationError("check show takes the check's id and no other option")
            }
            return
        }
        _ = try query
        guard photoWait >= 0, photoWait <= 600 else { throw ValidationError("--photo-wait must be 0 to 600 seconds") }
        if let photos {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: photos, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--photos \(photos): not a directory")
            }
        }
    }

    func run() throws {
        if kind == .show { return try show(value ?? "") }
        do {
            let query = try query
            let answer: CheckAnswer
            var photo: (String) throws -> Data? = { _ in nil }
            if let path = store.offlineDirectory {
                let checkPurpose = try purpose.map { try CheckPurpose(code: $0, reference: purposeReference, codes: .standard) }
                let context = try CheckContext(officerId: officer, unitId: unit, authentication: .technician, purpose: checkPurpose,
                                               language: store.language)
                let directory = try store.stateDirectory(path)
                try directory.requireLists()
                let checker = Checker(lists: try ListsStore.open(directory), journal: try JournalStore.open(path: directory.journalPath))
                answer = try checker.check(query, context: context)
                let cache = try PhotoStore(state: directory, budgetBytes: .max)
                photo = { cache.photo($0) }
            } else {
                // The daemon judges the purpose against its own codes (checks.purposes).
                answer = try store.daemon.check(query, purpose: purpose.map { CheckPurpose(unchecked: $0, reference: purposeReference) })
                let daemon = store.daemon
                photo = { try daemon.photo($0) }
            }
            store.print(answer) { AnswerText.render($0, colour: isatty(STDOUT_FILENO) == 1, language: store.language) }
            if let photos {
                try writePhotos(of: answer, to: URL(fileURLWithPath: photos, isDirectory: true), wait: store.offlineDirectory == nil ? photoWait : 0,
                                photo: photo)
            }
        } catch let error as InputError where error.field == "officer" && error.code == .empty {
            throw Failure.exit(InputError(.empty, field: "officer", "no officer: sign in with --officer ID (or MPOLICE_OFFICER)"),
                               json: store.json)
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }

    /// `check show CHECK-ID`: the record, the center's confirmation, the outcome.
    private func show(_ checkId: String) throws {
        do {
            let detail: CheckDetail
            if let path = store.offlineDirectory {
                let journal = try JournalStore.open(path: try store.stateDirectory(path).journalPath)
                guard let check = try journal.check(id: checkId) else {
                    throw FieldOperationError(.unknownCheck, "no check \(checkId) in this terminal's journal")
                }
                detail = CheckDetail(check: check, confirmation: try journal.confirmation(checkId: checkId), outcome: try journal.hitOutcome(checkId: checkId))
            } else {
                detail = try store.daemon.call("GET", "/v1/checks/\(try DispatchCommand.pathSegment(checkId, what: "a check id"))", as: CheckDetail.self)
            }
            store.print(detail) { AnswerText.render($0, language: store.language) }
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }

    /// Writes each matched person's photos that are (or, within `wait`, come) on the
    /// terminal; says on stderr which were written and which are not there.
    private func writePhotos(of answer: CheckAnswer, to directory: URL, wait: Double, photo: (String) throws -> Data?) throws {
        let wanted = answer.lists.flatMap(\.matches).flatMap { match in match.record.photos.map { (record: match.record.recordId, photo: $0) } }
        let deadline = Date().addingTimeInterval(wait)
        var left = wanted
        while true {
            left = try left.filter { item in
                guard let data = try photo(item.photo.sha256) else { return true }
                let file = directory.appendingPathComponent("\(item.record)-\(item.photo.kind.rawValue)-\(item.photo.sha256.prefix(12)).jpg")
                try data.write(to: file, options: .atomic)
                FileHandle.standardError.write(Data("photo: \(file.path)\n".utf8))
                return false
            }
            if left.isEmpty || Date() >= deadline { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        for item in left {
            FileHandle.standardError.write(Data("photo not on the terminal: \(item.record) \(item.photo.kind.rawValue) \(item.photo.sha256.prefix(12))\n".utf8))
        }
    }
}
