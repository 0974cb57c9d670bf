import ArgumentParser
import Central
import FieldWire
import Foundation
import Watchlist

struct BulletinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulletin",
        abstract: "Urgent bulletins: a plate, an ID or a person every terminal of a region matches within seconds.",
        discussion: """
            `bulletin create` signs the next bulletin with KEYS/manifest.key and stores it in --db:
            the dispatch long polls of the region's units answer with it at once, and the next
            `publish --uplink-db` lists it in the manifest for terminals that missed the push.
            Terminals match it in every check until it expires (docs/sync-protocol.md, "Bulletins").
            """,
        subcommands: [Create.self, List.self],
        defaultSubcommand: Create.self)

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign and store a bulletin; prints its id and serial.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Option(help: ArgumentHelp("The center's key directory (manifest.key).", valueName: "dir"))
        var keys: String

        @Option(help: "A plate to look out for.")
        var plate: String?

        @Option(help: "A national ID or resident number to look out for.")
        var id: String?

        @Option(help: "A person's name (with --dob).")
        var name: String?

        @Option(help: "The person's date of birth, YYYY-MM-DD or 民國YY年MM月DD日 (with --name).")
        var dob: String?

        @Option(help: "Only units of this region (their terminal.region); default: every region.")
        var region: String?

        @Option(help: ArgumentHelp("How long it holds: 90s, 30m, 6h, 2d (at most 30d).", valueName: "duration"))
        var ttl: String = "6h"

        @Option(help: "What the officer reads (1 to 500 characters).")
        var summary: String

        func validate() throws {
            _ = try subject()
            _ = try Self.seconds(ttl)
            guard (1...Bulletin.maxSummaryCharacters).contains(summary.trimmingCharacters(in: .whitespacesAndNewlines).count) else {
                throw ValidationError("--summary must be 1 to \(Bulletin.maxSummaryCharacters) characters")
            }
            if let region, region.range(of: "^[^;,&=%]{1,32}$", options: .regularExpression) == nil {
                throw ValidationError("--region must be 1 to 32 characters without ';', ',', '&', '=' or '%'")
            }
        }

        func subject() throws -> Bulletin.Subject {
            do {
                switch (plate, id, name, dob) {
                case (let plate?, nil, nil, nil): return try .plate(plate)
                case (nil, let id?, nil, nil): return try .personID(id)
                case (nil, nil, let name?, let dob?): return try .person(name: name, dateOfBirth: dob)
                default: throw ValidationError("give --plate, --id, or --name with --dob (one of them)")
                }
            } catch let error as InputError {
                throw ValidationError("the bulletin's subject: \(error.message)")
            }
        }

        /// `90s`, `30m`, `6h`, `2d`, or plain seconds.
        static func seconds(_ text: String) throws -> Int64 {
            let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
            let (number, unit) = text.last.flatMap { units[$0] }.map { (text.dropLast(), $0) } ?? (Substring(text), 1)
            guard let value = Int64(number), value > 0, value * unit <= 30 * 86_400 else {
                throw ValidationError("--ttl \(text): give 90s, 30m, 6h or 2d, at most 30d")
            }
            return value * unit
        }

        func run() throws {
            do {
                let key = try CentralKeys.load(from: URL(fileURLWithPath: keys, isDirectory: true)).manifestKey
                let bulletin = try UplinkDatabase(db).createBulletin(
                    subject: try subject(), region: region, summary: summary.trimmingCharacters(in: .whitespacesAndNewlines),
                    validFor: try Self.seconds(ttl), key: key, now: SystemClock().nowSeconds)
                print("\(bulletin.id) serial \(bulletin.serial)")
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every bulletin, newest first, as JSON lines (no subject: it stays in the database).")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        func run() throws {
            do {
                for status in try UplinkDatabase(db).bulletinStatuses(now: SystemClock().nowSeconds) { print(WireJSON.text(status)) }
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
