import ArgumentParser
import Central
import FieldWire
import Foundation
import Logging
import Watchlist

extension OutboxKind: ExpressibleByArgument {}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the uplink (items from units, dispatches to units) on a Unix socket behind nginx.",
        discussion: """
            Listens with plain HTTP on the Unix socket --socket for nginx, which terminates TLS,
            verifies the device certificate and passes X-Client-Verify and X-Client-DN (the unit
            is the certificate's CN without "unit-"). Those headers are trusted, so only nginx
            may reach the socket: give it nginx's workers' group (--socket-group) and a mode
            that shuts everyone else out (0660). Items are stored in --db once per unit and
            idempotency id; each is acknowledged in the answer. docs/sync-protocol.md describes
            the API.
            """)

    @Option(help: ArgumentHelp("The uplink database (created when missing): an SQLite file or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: ArgumentHelp("The Unix socket to listen on (replaced if it exists).", valueName: "path"))
    var socket: String

    @Option(help: ArgumentHelp("Permission bits of the socket file.", valueName: "octal"))
    var socketMode: String = "0660"

    @Option(help: ArgumentHelp("Group to own the socket file: nginx's workers' (www-data on Debian).", valueName: "group"))
    var socketGroup: String?

    @Option(help: "Database connections (PostgreSQL): requests wait for one beyond this.")
    var dbConnections = 8

    @Option(help: ArgumentHelp("Remove uplink items and deliveries older than this many months, once a day (PostgreSQL: whole month partitions). Default: keep everything.", valueName: "months"))
    var retentionMonths: Int?

    func validate() throws {
        if let retentionMonths, !(1...120).contains(retentionMonths) { throw ValidationError("--retention-months must be 1 to 120") }
        guard (1...100).contains(dbConnections) else { throw ValidationError("--db-connections must be 1 to 100") }
        guard let mode = UInt16(socketMode, radix: 8), mode <= 0o777 else { throw ValidationError("--socket-mode must be octal permission bits such as 0660") }
        guard mode & 0o007 == 0 else { throw ValidationError("--socket-mode must give others no access: whoever reaches the socket can claim any unit") }
        if let socketGroup, getgrnam(socketGroup) == nil { throw ValidationError("--socket-group: no such group \(socketGroup)") }
    }

    func run() async throws {
        let database: UplinkDatabase
        do {
            database = try UplinkDatabase(db, connections: dbConnections)
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var logger = Logger(label: "mpolice-central")
        logger.logLevel = .notice
        do {
            try await UplinkServer(database: database, logger: logger).run(socket: socket, mode: mode_t(UInt16(socketMode, radix: 8)!),
                                                            group: socketGroup.flatMap { getgrnam($0)?.pointee.gr_gid },
                                                            retentionMonths: retentionMonths, logger: logger) {
                FileHandle.standardError.write(Data("mpolice-central: serving the uplink on \(socket) (\(database.description))\n".utf8))
            }
        } catch let error as UplinkServer.SocketSetupError {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct DispatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Dispatch orders to units: create, update, cancel, reassign, list.",
        discussion: """
            Each change goes into the unit's dispatch log, which its terminal receives by the
            dispatch long poll within seconds (docs/sync-protocol.md, "Dispatch"). After a cancel
            the unit's status changes are refused dispatch.cancelled; after a reassign the old
            unit's are refused dispatch.reassigned and the new unit receives the dispatch.
            """,
        subcommands: [Create.self, Update.self, Cancel.self, Reassign.self, List.self])

    /// What a dispatch says, as options.
    struct Details: ParsableArguments {
        @Option(help: "Latitude of the scene, degrees.")
        var lat: Double?

        @Option(help: "Longitude of the scene, degrees.")
        var lon: Double?

        @Option(help: "The scene's address.")
        var address: String?

        @Option(help: "The 110 call's type, e.g. traffic-collision, robbery.")
        var incidentType: String?

        @Option(help: "The caller's call-back number.")
        var callback: String?

        @Option(help: "Notes for the unit.")
        var notes: String?

        func validate(summary: String?, priority: String?) throws {
            if let summary { try Self.text(summary, "--summary", max: 500) }
            if let priority, !["urgent", "high", "routine"].contains(priority) { throw ValidationError("--priority must be urgent, high or routine") }
            guard (lat == nil) == (lon == nil) else { throw ValidationError("give both --lat and --lon, or neither") }
            if let lat, let lon {
                guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                    throw ValidationError("--lat must be -90 to 90 and --lon -180 to 180")
                }
            }
            if let address { try Self.text(address, "--address", max: 300) }
            if let incidentType, incidentType.range(of: "^[a-z0-9-]{1,40}$", options: .regularExpression) == nil {
                throw ValidationError("--incident-type must be 1 to 40 lower-case letters, digits or '-' (e.g. traffic-collision)")
            }
            if let callback, callback.range(of: "^\\+?[0-9 -]{3,20}$", options: .regularExpression) == nil {
                throw ValidationError("--callback must be a telephone number: digits, spaces, '-', an optional leading '+' (3 to 20)")
            }
            if let notes { try Self.text(notes, "--notes", max: 1000) }
        }

        static func text(_ value: String, _ option: String, max: Int) throws {
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty, value.count <= max else {
                throw ValidationError("\(option) must be 1 to \(max) characters")
            }
        }
    }

    static func validUnit(_ unit: String, _ option: String = "--unit") throws {
        guard unit.range(of: "^[A-Za-z0-9._-]{1,32}$", options: .regularExpression) != nil else {
            throw ValidationError("\(option) must be 1 to 32 letters, digits, '.', '_' or '-'")
        }
    }

    static func validID(_ id: String) throws {
        guard id.count == 36, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw ValidationError("a dispatch id is a UUID (36 characters, as dispatch create printed it)")
        }
    }

    static func failing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a dispatch for a unit, or for the nearest available one (--near); prints its id.",
            discussion: """
                --near LAT,LON picks the unit with the shortest straight-line distance from its
                latest breadcrumb (received within --max-age) among the available ones: units whose
                last status is available (or who never sent one), with no open dispatch and no
                emergency. Straight-line, not road distance: a unit across a river may be chosen.
                The chosen unit and its distance are printed on standard error.
                """)

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Option(help: "The unit to dispatch (as in the device certificate, without \"unit-\").")
        var unit: String?

        @Option(help: ArgumentHelp("Dispatch the nearest available unit to this point (also the scene, unless --lat/--lon).", valueName: "lat,lon"))
        var near: String?

        @Option(help: "Seconds: with --near, positions received longer ago are not used.")
        var maxAge: Int64 = 900

        @Option(help: "What the unit is sent to.")
        var summary: String

        @Option(help: "urgent, high or routine.")
        var priority: String = "routine"

        @OptionGroup var details: Details

        func point() -> (Double, Double)? {
            guard let near else { return nil }
            let parts = near.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lat = parts[0], let lon = parts[1], (-90...90).contains(lat), (-180...180).contains(lon) else { return nil }
            return (lat, lon)
        }

        func validate() throws {
            guard (unit == nil) != (near == nil) else { throw ValidationError("give --unit or --near, one of them") }
            if let unit { try DispatchCommand.validUnit(unit) }
            if near != nil, point() == nil { throw ValidationError("--near must be LAT,LON in degrees, e.g. 25.0478,121.5170") }
            guard maxAge > 0 else { throw ValidationError("--max-age must be positive") }
            try details.validate(summary: summary, priority: priority)
        }

        func run() throws {
            try DispatchCommand.failing {
                let database = try UplinkDatabase(db)
                let now = SystemClock().nowMilliseconds
                var chosen = unit
                var distance: Double?
                var scene = (details.lat, details.lon)
                if let (lat, lon) = point() {
                    guard let nearest = try database.nearestAvailableUnit(latitude: lat, longitude: lon, maxAge: maxAge, now: now) else {
                        throw CentralError("no available unit has sent a position in the last \(maxAge) s")
                    }
                    (chosen, distance) = (nearest.unit, nearest.distanceMeters)
                    if scene.0 == nil { scene = (lat, lon) }
                    FileHandle.standardError.write(Data("nearest available unit: \(nearest.unit), \(Int(nearest.distanceMeters)) m straight-line\n".utf8))
                }
                let order = try database.createDispatch(
                    unit: chosen!, .init(priority: priority, summary: summary, latitude: scene.0, longitude: scene.1, address: details.address,
                                         incidentType: details.incidentType, callbackNumber: details.callback, notes: details.notes),
                    distance: distance, now: now)
                print(order.id)
            }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change what a dispatch says; the unit receives the update.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Argument(help: "The dispatch id.")
        var id: String

        @Option(help: "What the unit is sent to.")
        var summary: String?

        @Option(help: "urgent, high or routine.")
        var priority: String?

        @OptionGroup var details: Details

        func validate() throws {
            try DispatchCommand.validID(id)
            try details.validate(summary: summary, priority: priority)
            guard summary != nil || priority != nil || details.lat != nil || details.address != nil || details.incidentType != nil
                    || details.callback != nil || details.notes != nil else {
                throw ValidationError("give at least one of --summary, --priority, --lat/--lon, --address, --incident-type, --callback, --notes")
            }
        }

        func run() throws {
            try DispatchCommand.failing {
                let entry = try UplinkDatabase(db).updateDispatch(
                    id.lowercased(), priority: priority, summary: summary, latitude: details.lat, longitude: details.lon, address: details.address,
                    incidentType: details.incidentType, callbackNumber: details.callback, notes: details.notes, now: SystemClock().nowMilliseconds)
                print(entry.cursor)
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Call a dispatch off; the unit's later status changes are refused.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Argument(help: "The dispatch id.")
        var id: String

        @Option(help: "Why (the unit is told).")
        var reason: String

        func validate() throws {
            try DispatchCommand.validID(id)
            try Details.text(reason, "--reason", max: 300)
        }

        func run() throws {
            try DispatchCommand.failing {
                print(try UplinkDatabase(db).cancelDispatch(id.lowercased(), reason: reason, now: SystemClock().nowMilliseconds).cursor)
            }
        }
    }

    struct Reassign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a dispatch to another unit.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Argument(help: "The dispatch id.")
        var id: String

        @Option(help: "The unit that takes it over.")
        var to: String

        @Option(help: "Why (both units are told).")
        var reason: String?

        func validate() throws {
            try DispatchCommand.validID(id)
            try DispatchCommand.validUnit(to, "--to")
            if let reason { try Details.text(reason, "--reason", max: 300) }
        }

        func run() throws {
            try DispatchCommand.failing {
                print(try UplinkDatabase(db).reassignDispatch(id.lowercased(), to: to, reason: reason, now: SystemClock().nowMilliseconds).cursor)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every dispatch with its unit, status and times: created → received → en route → on scene.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Flag(help: "JSON array of {id, unit, status, createdAt, receivedAt, enRouteAt, onSceneAt, toOnSceneSeconds, …}.")
        var json = false

        func run() throws {
            try DispatchCommand.failing {
                let reports = try UplinkDatabase(db).dispatchReports()
                if json { print(WireJSON.text(reports)); return }
                func s(_ v: Double?) -> String { v.map { String(format: "%.1f s", $0) } ?? "-" }
                for r in reports {
                    print([r.id, r.unit, r.status, r.createdAt, "received \(s(r.toReceivedSeconds))", "en route \(s(r.toEnRouteSeconds))",
                           "on scene \(s(r.toOnSceneSeconds))"].joined(separator: "\t"))
                }
            }
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "What the field did: arrival times, hit outcomes.",
        subcommands: [Arrival.self, Outcomes.self])

    struct Arrival: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The distribution of dispatch → received, → en route, → on scene, and en route → on scene (seconds).")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Flag(help: "JSON.")
        var json = false

        func run() throws {
            try DispatchCommand.failing {
                let report = try UplinkDatabase(db).arrivalReport()
                if json { print(WireJSON.text(report)); return }
                print("\(report.dispatches) dispatches")
                func line(_ name: String, _ d: UplinkDatabase.Distribution) {
                    func f(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "-" }
                    print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) n=\(d.count)  min \(f(d.minSeconds))  p50 \(f(d.p50Seconds))  "
                          + "p90 \(f(d.p90Seconds))  max \(f(d.maxSeconds))  mean \(f(d.meanSeconds))")
                }
                line("created → received", report.toReceived)
                line("created → en route", report.toEnRoute)
                line("created → on scene", report.toOnScene)
                line("en route → on scene", report.enRouteToOnScene)
            }
        }
    }

    struct Outcomes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hit outcomes the officers recorded: vehicles recovered, fugitives caught, missing people found.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Flag(help: "JSON.")
        var json = false

        func run() throws {
            try DispatchCommand.failing {
                let report = try UplinkDatabase(db).outcomeReport()
                if json { print(WireJSON.text(report)); return }
                print("vehicles recovered   \(report.vehiclesRecovered)")
                print("fugitives caught     \(report.fugitivesCaught)")
                print("missing people found \(report.missingFound)")
                print("list was behind      \(report.listBehind)")
                print("not the person       \(report.notThePerson)")
            }
        }
    }
}

struct Records: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the items units delivered, in the order received.")

    @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: "Only this kind: \(OutboxKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: OutboxKind?

    @Flag(help: "Only urgent items: emergencies and the breadcrumbs sent while one was active.")
    var urgent = false

    @Flag(help: "JSON array of {receivedSeq, id, unit, kind, createdAt, receivedAt, payload}.")
    var json = false

    @Flag(help: "List every answer given instead, one per delivery: {seq, unit, id, status, receivedAt}.")
    var deliveries = false

    func run() throws {
        let records: [UplinkDatabase.Record]
        do {
            let database = try UplinkDatabase.existing(db)
            if deliveries {
                let answers = try database.deliveries()
                if json {
                    print(WireJSON.text(answers))
                } else {
                    for d in answers { print("\(d.seq)\t\(d.unit)\t\(d.id)\t\(d.status)") }
                }
                return
            }
            records = try database.records(kind: kind, urgentOnly: urgent)
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(WireJSON.text(records))
        } else {
            for r in records { print("\(r.receivedSeq)\t\(r.unit)\t\(r.kind.rawValue)\t\(r.id)\(r.urgent ? "\tURGENT" : "")") }
            FileHandle.standardError.write(Data("\(records.count) items\n".utf8))
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Who checked whom: a person's or a vehicle's checks, or the anomalies (docs/operations.md, \"Audit at the center\").",
        discussion: """
            mpolice-central audit --db central.db --subject A123456789
            mpolice-central audit --db central.db --plate ABC-1234
            mpolice-central audit --db central.db --anomalies --dataset dataset/
            Exit 0; with --anomalies, 4 when any was found.
            """)

    @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: "A person's national ID or resident number: every check of it.")
    var subject: String?

    @Option(help: "A plate: every check of it.")
    var plate: String?

    @Flag(help: "Subjects checked by many officers, officers checking at a high rate, checks outside an officer's units, audit-chain breaks.")
    var anomalies = false

    @Option(help: ArgumentHelp("The data set whose officers.csv gives each officer's units (for the unit check).", valueName: "dir"))
    var dataset: String?

    @Option(help: "Anomaly: more distinct officers than this checking one subject in a day.")
    var maxOfficersPerSubject = 3

    @Option(help: "Anomaly: more checks than this by one officer in an hour.")
    var maxChecksPerHour = 60

    @Flag(help: "JSON.")
    var json = false

    func validate() throws {
        guard [subject != nil, plate != nil, anomalies].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --subject, --plate or --anomalies")
        }
        guard maxOfficersPerSubject >= 1, maxChecksPerHour >= 1 else { throw ValidationError("thresholds must be at least 1") }
    }

    func run() throws {
        do {
            let audit = Audit(try UplinkDatabase.existing(db))
            if anomalies {
                let roster = try dataset.map { try Self.roster(URL(fileURLWithPath: $0, isDirectory: true)) }
                let found = try audit.anomalies(.init(officersPerSubjectPerDay: maxOfficersPerSubject, checksPerOfficerPerHour: maxChecksPerHour),
                                                roster: roster)
                if json { print(WireJSON.text(found)) } else { for a in found { print("\(a.kind.rawValue)\t\(a.unit ?? "-")\t\(a.detail)") } }
                if !found.isEmpty { throw ExitCode(4) }
                return
            }
            let checks = try subject.map(audit.subject) ?? audit.plate(plate!)
            if json {
                print(WireJSON.text(checks))
            } else {
                for c in checks {
                    let purpose = c.purpose.map { $0.code + ($0.reference.map { " \($0)" } ?? "") } ?? "-"
                    let place = c.location.latitude.map { "\($0),\(c.location.longitude ?? 0)" } ?? c.location.status
                    print("\(c.checkedAt)\t\(c.unitId)\t\(c.officerId)\t\(c.authentication ?? "-")\t\(purpose)\t\(c.outcome)\t\(place)")
                }
                FileHandle.standardError.write(Data("\(checks.count) checks\n".utf8))
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The officers of a data set's officers.csv, validated as a terminal loads them.
    static func roster(_ directory: URL) throws -> [RosterOfficer] {
        let url = directory.appendingPathComponent(Dataset.fileName(.officers))
        var reader = try CSVReader(contentsOf: url)
        guard try reader.nextRow() == Dataset.columns(.officers) else { throw CentralError("\(url.path): not an officers.csv header") }
        var officers: [RosterOfficer] = []
        while let fields = try reader.nextRow() {
            officers.append(RosterOfficer(try ListRow(.officers, fields, file: reader.fileName, line: reader.line)))
        }
        return officers
    }
}

extension TerminalOrder.Kind: ExpressibleByArgument {}

struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Lock or wipe a lost terminal: sign, queue and publish an order.",
        discussion: """
            Signs the unit's next order with KEYS/orders.key, stores it in --db (the dispatch long
            poll delivers it within seconds to a connected terminal) and, with --publish, writes
            PUBLISHED/orders/<unit>.json for terminals that only reach the static server. Kinds:
            lock, unlock, wipe-lists, wipe-all (docs/operations.md, "A lost terminal").
            `mpolice-central order list` shows each order and the terminal's acknowledgement.
            """,
        subcommands: [Issue.self, List.self],
        defaultSubcommand: Issue.self)

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "issue", abstract: "Sign and queue an order; prints its sequence.")

        @Argument(help: "lock, unlock, wipe-lists or wipe-all.")
        var kind: TerminalOrder.Kind

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Option(help: ArgumentHelp("The center's key directory (orders.key).", valueName: "dir"))
        var keys: String

        @Option(help: "The unit (as in the device certificate, without \"unit-\").")
        var unit: String

        @Option(help: ArgumentHelp("Only the terminal with this device certificate obeys: its DER's SHA-256, hex.", valueName: "hex"))
        var certificateSha256: String?

        @Option(help: ArgumentHelp("Write orders/<unit>.json into this published directory.", valueName: "dir"))
        var publish: String?

        @Option(help: "Hours the order stays valid.")
        var validHours: Int = 72

        @Flag(help: "With wipe-all: also erase the state partition's LUKS key slots (terminals with security.luks_device).")
        var eraseKeySlots = false

        func validate() throws {
            guard unit.range(of: "^[A-Za-z0-9._-]{1,32}$", options: .regularExpression) != nil else {
                throw ValidationError("--unit must be 1 to 32 letters, digits, '.', '_' or '-'")
            }
            if let certificateSha256, certificateSha256.range(of: "^[0-9a-fA-F]{64}$", options: .regularExpression) == nil {
                throw ValidationError("--certificate-sha256 must be 64 hex digits")
            }
            guard (1...720).contains(validHours) else { throw ValidationError("--valid-hours must be 1 to 720") }
            if eraseKeySlots, kind != .wipeAll { throw ValidationError("--erase-key-slots goes with wipe-all only") }
        }

        func run() throws {
            do {
                let key = try CentralKeys.load(from: URL(fileURLWithPath: keys, isDirectory: true)).ordersKey
                let database = try UplinkDatabase(db)
                let now = SystemClock().nowSeconds
                let (order, _) = try database.createOrder(unit: unit, kind: kind, certificateSHA256: certificateSha256,
                                                          eraseKeySlots: eraseKeySlots, validFor: Int64(validHours) * 3_600,
                                                          key: key, now: now)
                if let publish { try database.publishOrders(unit: unit, to: URL(fileURLWithPath: publish, isDirectory: true), now: now) }
                print(order.sequence)
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Orders and the terminals' acknowledgements, as JSON lines.")

        @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
        var db: String

        @Option(help: "Only this unit's orders.")
        var unit: String?

        func run() throws {
            do {
                for status in try UplinkDatabase(db).orderStatuses(unit: unit) { print(WireJSON.text(status)) }
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The fleet's health: every unit by its last health report, the ones to look at first.",
        discussion: """
            Terminals send a health report once a day and on `mpolicectl diag --upload` (agent
            version, list versions, last sync, certificate expiry, free disk, outbox depth).
            Flags: silent (no report for --silent-hours), stale-lists (no successful sync for
            --stale-hours), sync-failing, behind (an older manifest or list than other units
            hold), certificate-expiring (--certificate-days), disk-low, outbox-deep.
            Exit 0; 4 when any unit is flagged.
            """)

    @Option(help: ArgumentHelp("The uplink database: an SQLite file or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: "Flag units whose last report is older than this.")
    var silentHours = 36

    @Option(help: "Flag units whose last successful list sync is older than this.")
    var staleHours = 24

    @Option(help: "Flag device certificates that expire within this many days.")
    var certificateDays = 30

    @Flag(help: "Only flagged units.")
    var flaggedOnly = false

    @Flag(help: "JSON array of {unit, reportedAt, report, flags}.")
    var json = false

    func validate() throws {
        guard silentHours >= 1, staleHours >= 1, certificateDays >= 0 else { throw ValidationError("--silent-hours and --stale-hours at least 1, --certificate-days at least 0") }
    }

    func run() throws {
        let units: [UplinkDatabase.FleetUnit]
        do {
            var thresholds = UplinkDatabase.FleetThresholds()
            thresholds.silentAfter = Int64(silentHours) * 3_600
            thresholds.syncOlderThan = Int64(staleHours) * 3_600
            thresholds.certificateWithin = Int64(certificateDays) * 86_400
            units = try UplinkDatabase.existing(db).fleet(now: SystemClock().nowSeconds, thresholds: thresholds)
                .filter { !flaggedOnly || !$0.flags.isEmpty }
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(WireJSON.text(units))
        } else {
            for u in units {
                let r = u.report
                let lists = r.map { $0.lists.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") } ?? "-"
                print([u.unit, u.flags.isEmpty ? "ok" : u.flags.joined(separator: ","), r?.agentVersion ?? "-", r?.at ?? "never reported",
                       r?.lastSync.map { "sync \($0.outcome) \($0.at)" } ?? "sync -", lists, r.map { "outbox \($0.outboxDepth)" } ?? "",
                       r?.freeDiskBytes.map { "free \($0 >> 20) MiB" } ?? ""].joined(separator: "\t"))
            }
            let flagged = units.filter { !$0.flags.isEmpty }.count
            FileHandle.standardError.write(Data("\(units.count) units, \(flagged) flagged\n".utf8))
        }
        if units.contains(where: { !$0.flags.isEmpty }) { throw ExitCode(4) }
    }
}
