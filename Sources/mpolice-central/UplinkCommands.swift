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

    @Option(help: ArgumentHelp("The uplink database (created when missing).", valueName: "path"))
    var db: String

    @Option(help: ArgumentHelp("The Unix socket to listen on (replaced if it exists).", valueName: "path"))
    var socket: String

    @Option(help: ArgumentHelp("Permission bits of the socket file.", valueName: "octal"))
    var socketMode: String = "0660"

    @Option(help: ArgumentHelp("Group to own the socket file: nginx's workers' (www-data on Debian).", valueName: "group"))
    var socketGroup: String?

    func validate() throws {
        guard let mode = UInt16(socketMode, radix: 8), mode <= 0o777 else { throw ValidationError("--socket-mode must be octal permission bits such as 0660") }
        guard mode & 0o007 == 0 else { throw ValidationError("--socket-mode must give others no access: whoever reaches the socket can claim any unit") }
        if let socketGroup, getgrnam(socketGroup) == nil { throw ValidationError("--socket-group: no such group \(socketGroup)") }
    }

    func run() async throws {
        let database: UplinkDatabase
        do {
            database = try UplinkDatabase(path: db)
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var logger = Logger(label: "mpolice-central")
        logger.logLevel = .notice
        do {
            try await UplinkServer(database: database).run(socket: socket, mode: mode_t(UInt16(socketMode, radix: 8)!),
                                                            group: socketGroup.flatMap { getgrnam($0)?.pointee.gr_gid }, logger: logger) {
                FileHandle.standardError.write(Data("mpolice-central: serving the uplink on \(socket)\n".utf8))
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
        abstract: "Dispatch orders to units.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dispatch for a unit; prints its id.")

        @Option(help: ArgumentHelp("The uplink database.", valueName: "path"))
        var db: String

        @Option(help: "The unit to dispatch (as in the device certificate, without \"unit-\").")
        var unit: String

        @Option(help: "Latitude of the scene, degrees.")
        var lat: Double?

        @Option(help: "Longitude of the scene, degrees.")
        var lon: Double?

        @Option(help: "What the unit is sent to.")
        var summary: String

        @Option(help: "urgent, high or routine.")
        var priority: String = "routine"

        func validate() throws {
            guard unit.range(of: "^[A-Za-z0-9._-]{1,32}$", options: .regularExpression) != nil else {
                throw ValidationError("--unit must be 1 to 32 letters, digits, '.', '_' or '-'")
            }
            guard !summary.trimmingCharacters(in: .whitespaces).isEmpty, summary.count <= 500 else {
                throw ValidationError("--summary must be 1 to 500 characters")
            }
            guard ["urgent", "high", "routine"].contains(priority) else { throw ValidationError("--priority must be urgent, high or routine") }
            guard (lat == nil) == (lon == nil) else { throw ValidationError("give both --lat and --lon, or neither") }
            if let lat, let lon {
                guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                    throw ValidationError("--lat must be -90 to 90 and --lon -180 to 180")
                }
            }
        }

        func run() throws {
            do {
                let order = try UplinkDatabase(path: db).createDispatch(
                    unit: unit, priority: priority, summary: summary, latitude: lat, longitude: lon,
                    now: SystemClock().nowMilliseconds)
                print(order.id)
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

struct Records: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the items units delivered, in the order received.")

    @Option(help: ArgumentHelp("The uplink database.", valueName: "path"))
    var db: String

    @Option(help: "Only this kind: check, dispatch-status, breadcrumb or audit.")
    var kind: OutboxKind?

    @Flag(help: "JSON array of {receivedSeq, id, unit, kind, createdAt, receivedAt, payload}.")
    var json = false

    @Flag(help: "List every answer given instead, one per delivery: {seq, unit, id, status, receivedAt}.")
    var deliveries = false

    func run() throws {
        let records: [UplinkDatabase.Record]
        do {
            guard FileManager.default.fileExists(atPath: db) else { throw CentralError("no uplink database at \(db)") }
            let database = try UplinkDatabase(path: db)
            if deliveries {
                let answers = try database.deliveries()
                if json {
                    print(WireJSON.text(answers))
                } else {
                    for d in answers { print("\(d.seq)\t\(d.unit)\t\(d.id)\t\(d.status)") }
                }
                return
            }
            records = try database.records(kind: kind)
        } catch {
            FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(WireJSON.text(records))
        } else {
            for r in records { print("\(r.receivedSeq)\t\(r.unit)\t\(r.kind.rawValue)\t\(r.id)") }
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

    @Option(help: ArgumentHelp("The uplink database.", valueName: "path"))
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
            guard FileManager.default.fileExists(atPath: db) else { throw CentralError("no uplink database at \(db)") }
            let audit = Audit(try UplinkDatabase(path: db))
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

        @Option(help: ArgumentHelp("The uplink database.", valueName: "path"))
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
                let database = try UplinkDatabase(path: db)
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

        @Option(help: ArgumentHelp("The uplink database.", valueName: "path"))
        var db: String

        @Option(help: "Only this unit's orders.")
        var unit: String?

        func run() throws {
            do {
                for status in try UplinkDatabase(path: db).orderStatuses(unit: unit) { print(WireJSON.text(status)) }
            } catch {
                FileHandle.standardError.write(Data("mpolice-central: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
