import ArgumentParser
import Foundation
import Store
import Watchlist

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a plate, VIN, engine number or person against the cached lists.",
        discussion: """
            Every check is recorded in the journal before its answer is printed. Through the
            daemon the signed-in officer (`mpolicectl signin`) is recorded; with --db, --officer.
            """,
        subcommands: [Plate.self, VIN.self, Engine.self, Person.self])

    struct Who: ParsableArguments {
        @Option(help: "With --db: the officer's id (recorded with the check).")
        var officer: String = ProcessInfo.processInfo.environment["MPOLICE_OFFICER"] ?? ""

        @Option(help: "With --db: the unit's id (recorded with the check).")
        var unit: String = ProcessInfo.processInfo.environment["MPOLICE_UNIT"] ?? "local"
    }

    struct Plate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a licence plate (exact and OCR-confusable matches).")
        @Argument(help: "The plate as read, e.g. ABC-1234.") var plate: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var who: Who

        func run() throws {
            try CheckCommand.run(store, who, api: ("plate", ["plate": plate])) { checker, context in try checker.checkPlate(plate, context: context) }
        }
    }

    struct VIN: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a 17-character vehicle identification number.")
        @Argument(help: "The VIN.") var vin: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var who: Who

        func run() throws {
            try CheckCommand.run(store, who, api: ("vin", ["vin": vin])) { checker, context in try checker.checkVIN(vin, context: context) }
        }
    }

    struct Engine: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check an engine number.")
        @Argument(help: "The engine number as stamped.") var number: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var who: Who

        func run() throws {
            try CheckCommand.run(store, who, api: ("engine", ["engineNumber": number])) { checker, context in
                try checker.checkEngineNumber(number, context: context)
            }
        }
    }

    struct Person: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a person by ID (national ID or resident number) or by name and date of birth.")
        @Option(help: "National ID or resident certificate number.") var id: String?
        @Option(help: "Full name (with --dob).") var name: String?
        @Option(help: "Date of birth: YYYY-MM-DD or 民國YY年MM月DD日 (with --name).") var dob: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var who: Who

        func validate() throws {
            switch (id, name, dob) {
            case (.some, nil, nil), (nil, .some, .some): break
            case (.some, _, _): throw ValidationError("give either --id, or --name with --dob, not both")
            default: throw ValidationError("give --id, or --name with --dob")
            }
        }

        func run() throws {
            let body = id.map { ["id": $0] } ?? ["name": name!, "dateOfBirth": dob!]
            try CheckCommand.run(store, who, api: ("person", body)) { checker, context in
                if let id { return try checker.checkPerson(id: id, context: context) }
                return try checker.checkPerson(name: name!, dateOfBirth: dob!, context: context)
            }
        }
    }

    /// Runs one check — through the daemon (`POST /v1/checks/<kind>` with `api`'s body), or
    /// with --db on the state directory — and prints the answer.
    static func run(_ store: StoreOptions, _ who: Who, api: (kind: String, body: [String: String]),
                    _ body: (Checker, CheckContext) throws -> CheckAnswer) throws {
        do {
            let answer: CheckAnswer
            if let path = store.offlineDirectory {
                let context = try CheckContext(officerId: who.officer, unitId: who.unit)
                let directory = StateDirectory(path: path)
                try directory.requireLists()
                let checker = Checker(lists: try ListsStore.open(directory),
                                      journal: try JournalStore.open(path: directory.journalPath))
                answer = try body(checker, context)
            } else {
                let data = try store.daemon.call("POST", "/v1/checks/\(api.kind)", body: api.body)
                answer = try JSONDecoder().decode(CheckAnswer.self, from: data)
            }
            if store.json {
                print(String(decoding: try JSONEncoder.stable.encode(answer), as: UTF8.self))
            } else {
                print(AnswerText.render(answer, colour: isatty(STDOUT_FILENO) == 1))
            }
        } catch let error as InputError where error.field == "officer" && error.code == .empty {
            throw Failure.exit(InputError(.empty, field: "officer", "no officer: sign in with --officer ID (or MPOLICE_OFFICER)"),
                               json: store.json)
        } catch {
            throw Failure.exit(error, json: store.json)
        }
    }
}
