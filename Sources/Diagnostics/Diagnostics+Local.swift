import TerminalConfiguration
import FieldSync
import FieldWire
import Foundation
import LocalAPIClient
import LocalAPIContract
import Location
import Store
import Watchlist

extension DiagnosisContext {
    func certificateStep() throws -> Finding {
        let s = configuration.sync
        for (what, path) in [("device certificate", s.certificate), ("device key", s.key)] {
            guard FileManager.default.fileExists(atPath: path) else {
                throw Finding.fail("certificate.missing", "the \(what) \(path) does not exist",
                                   hint: "enrol the device and install its certificate and key (Device/README.md)")
            }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw Finding.fail("certificate.unreadable", "the \(what) \(path) is not readable by this user",
                                   hint: "run diag as root (sudo mpolicectl diag); the daemon reads it as group mpolice")
            }
        }
        let certificate: DeviceCertificate
        do {
            certificate = try DeviceCertificate(pem: String(contentsOfFile: s.certificate, encoding: .utf8))
        } catch {
            throw Finding.fail("certificate.unreadable", "\(s.certificate) is not a PEM certificate (\(error))",
                               hint: "reinstall the device certificate from the enrolment")
        }
        let keyPEM = (try? String(contentsOfFile: s.key, encoding: .utf8)) ?? ""
        let keyInfo = DeviceCertificate.publicKeyInfo(ofPrivateKey: keyPEM)
        if let keyInfo, keyInfo != certificate.publicKeyInfo {
            throw Finding.fail("certificate.key-mismatch", "the key in \(s.key) does not belong to the certificate \(s.certificate)",
                               hint: "install the key that was generated with this certificate's request")
        }
        let expected = "unit-\(configuration.terminal.unit)"
        guard certificate.commonName == expected else {
            throw Finding.fail("certificate.wrong-unit", "the certificate is CN=\(certificate.commonName ?? "none"); the center expects CN=\(expected)",
                               hint: "terminal.unit and the enrolled certificate must name the same unit")
        }
        let left = certificate.notAfter.timeIntervalSince1970 - now
        let validUntil = Timestamp.iso8601(seconds: Int64(certificate.notAfter.timeIntervalSince1970))
        if left <= 0 {
            throw Finding.fail("certificate.expired", "CN=\(expected) expired at \(validUntil)",
                               hint: "renew the device certificate (Device/README.md, enrolment); the center refuses an expired one")
        }
        if certificate.notBefore.timeIntervalSince1970 > now {
            throw Finding.fail("certificate.not-yet-valid", "CN=\(expected) is valid only from \(Timestamp.iso8601(seconds: Int64(certificate.notBefore.timeIntervalSince1970)))",
                               hint: "this terminal's clock is probably behind: check the clock step")
        }
        let detail = "CN=\(expected), valid until \(validUntil) (\(Self.days(left)))" + (keyInfo == nil ? "; key type not checked" : ", key matches")
        if left < 14 * 86_400 {
            throw Finding.warn("certificate.expires-soon", detail, hint: "renew the device certificate before it expires")
        }
        return .ok(detail)
    }

    func trustRootStep() throws -> Finding {
        let path = configuration.sync.trustRoot
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Finding.fail("trust-root.missing", "\(path) is missing or unreadable",
                               hint: "install root.json from the center (Device/provision --root)")
        }
        let trust: TrustState
        do {
            trust = try TrustState.bootstrap(SignedEnvelope.decode(data))
        } catch {
            throw Finding.fail("trust-root.invalid", "\(path) is not a valid self-signed root (\(error))",
                               hint: "install root.json as `mpolice-central keys init` wrote it")
        }
        var detail = "root version \(trust.root.version) in \(path)"
        if let lists = try? ListsStore.openReadOnly(stateDirectory), let stored = try? lists.syncState(),
           let storedRoot = try? TrustState.bootstrap(SignedEnvelope.decode(stored.root)) {
            detail += "; version \(storedRoot.root.version) trusted from sync"
        }
        return .ok(detail)
    }

    func listsStep() throws -> Finding {
        let lists: ListsStore
        do {
            lists = try ListsStore.openReadOnly(stateDirectory)
        } catch let error as StoreError where error.code == .notFound {
            throw Finding.fail("lists.missing", "no lists in \(stateDirectory.url.path)", hint: "start the daemon, then sync (mpolicectl sync --now)")
        } catch {
            throw Finding.fail("lists.unreadable", "\(error)", hint: "see the databases step; a damaged lists.db is re-fetched by removing it and syncing")
        }
        let statuses: [ListStatus]
        let stored: [ListKind: ListMeta]
        let recomputed: [ListKind: (count: Int64, digest: String)]
        do {
            statuses = try lists.statuses(at: Int64(now))
            stored = try lists.versions()
            recomputed = try lists.recomputeDigests()
        } catch {
            throw Finding.fail("lists.unreadable", "reading the lists failed: \(error)",
                               hint: "see the databases step; remove lists.db and sync to fetch the lists again")
        }
        let summary = statuses.map { s in
            "\(s.list) v\(s.version) \(s.recordCount) records" + (s.ageSeconds.map { ", \(Self.days(Double($0))) old" } ?? "") + (s.stale ? " STALE" : "")
        }.joined(separator: "; ")
        for list in ListKind.allCases {
            let meta = stored[list]!, again = recomputed[list]!
            if meta.version > 0, meta.recordCount != again.count || meta.digest != again.digest {
                throw Finding.fail("lists.digest-mismatch", "\(list.rawValue): the stored records do not match their recorded digest (\(again.count) of \(meta.recordCount) records)",
                                   hint: "the lists were altered outside a sync: remove lists.db and sync")
            }
        }
        if statuses.contains(where: { $0.version == 0 }) {
            throw Finding.warn("lists.never-received", summary, hint: "a list was never received: no-hit answers mean nothing until a sync succeeds")
        }
        if statuses.contains(where: \.stale) {
            throw Finding.warn("lists.stale", summary, hint: "the lists expired: answers carry a warning until a sync succeeds (see the steps above)")
        }
        return .ok(summary + "; digests verified")
    }

    func outboxStep() throws -> Finding {
        let journal = try openJournal()
        let status = try journal.outboxStatus(now: Int64(now * 1000))
        var detail = "\(status.pending) pending"
        if let age = status.oldestAgeSeconds { detail += ", oldest \(Self.days(Double(age)))" }
        detail += ", \(status.rejected) rejected"
        if status.shedBreadcrumbs > 0 { detail += ", \(status.shedBreadcrumbs) breadcrumbs shed" }
        if let upload = try journal.lastUpload() {
            detail += "; last upload \(Timestamp.iso8601(seconds: upload.at / 1000)) " + (upload.ok ? "ok" : "failed: \(upload.error ?? "")")
        }
        if status.rejected > 0 {
            let reasons = Set(try journal.rejectedOutboxItems(limit: 20).map { $0.reason.split(separator: ":").first.map(String.init) ?? $0.reason })
            throw Finding.warn("outbox.rejected", detail + " (reasons: \(reasons.sorted().joined(separator: ", ")))",
                               hint: "the center refused items for good: send this report to the helpdesk")
        }
        if configuration.uplink.central == nil, status.pending > 0 {
            throw Finding.warn("uplink.not-configured", detail, hint: "set [uplink] central: items wait until it is")
        }
        if let upload = try journal.lastUpload(), !upload.ok, status.pending > 0 {
            throw Finding.warn("outbox.upload-failing", detail, hint: "uploads fail: the reason is above; the network steps show where the link breaks")
        }
        if status.warning != nil {
            throw Finding.warn("outbox.backlog", detail, hint: "the terminal has been offline long: check the network steps above")
        }
        if let age = status.oldestAgeSeconds, age > 3_600 {
            throw Finding.warn("outbox.stuck", detail, hint: "items wait over an hour: check the network steps above and the daemon log")
        }
        return .ok(detail)
    }

    func syncHistoryStep() throws -> Finding {
        guard configuration.sync.central != nil else { throw Finding.notApplicable("sync.not-configured", "sync is not configured") }
        let attempts = try openJournal().syncAttempts(limit: 10)
        guard let last = attempts.first else {
            throw Finding.warn("sync.never", "no sync attempt recorded", hint: "start the daemon (systemctl start mpoliced) or run mpolicectl sync --now")
        }
        let failures = attempts.prefix { $0.outcome == .failed }
        let when = Timestamp.iso8601(seconds: last.startedAt / 1000)
        if last.outcome == .failed {
            let reasons = failures.compactMap(\.reason)
            throw Finding.warn("sync.last-failed", "last sync \(when) failed [\(last.reason ?? "?")]; \(failures.count) failed in a row (\(Set(reasons).sorted().joined(separator: ", ")))",
                               hint: "the reason code is explained in docs/sync-protocol.md; the network steps above show where it breaks")
        }
        return .ok("last sync \(when): \(last.outcome.rawValue), manifest \(last.manifestSequence.map(String.init) ?? "-")")
    }

    func daemonStep() throws -> Finding {
        let socket = options.socketPath ?? configuration.api.socket
        let status: TerminalStatus
        do {
            status = try APIClient(socketPath: socket, timeout: 3).status()
        } catch is APIClient.Unreachable {
            throw Finding.warn("daemon.not-running", "nothing answers on \(socket)",
                               hint: "start it: systemctl start mpoliced (journalctl -u mpoliced says why it stopped)")
        } catch {
            throw Finding.fail("daemon.error", "the daemon's status answer on \(socket) failed: \(error)", hint: "see journalctl -u mpoliced")
        }
        let summary = "running on \(socket), up \(Self.days(Double(status.uptimeSeconds ?? 0))), outbox \(status.outbox.pending) pending, "
            + "gps \(status.location?.status.rawValue ?? "off")"
        if let wiped = status.protection?.wiped {
            throw Finding.fail("terminal.wiped", "\(summary); wiped by order \(wiped.orderSequence) at \(wiped.completedAt)",
                               hint: "re-provision the terminal: docs/operations.md, \"A lost terminal\"")
        }
        if let lock = status.protection?.lock {
            throw Finding.fail("terminal.locked", "\(summary); locked (\(lock.cause.rawValue), order \(lock.orderSequence)) since \(lock.since)",
                               hint: "the center sends unlock (mpolice-central order --unit … unlock), or a technician runs mpolicectl lift-lock")
        }
        if let offline = status.protection?.offline {
            let countdown = "\(Self.days(Double(offline.offlineSeconds))) without a verified manifest"
            if offline.refusing {
                throw Finding.fail("lists.expired", "\(summary); \(countdown): checks are refused",
                                   hint: "the terminal must reach the center: the network steps below show where it breaks")
            }
            if offline.warning != nil, let refusal = offline.refusalInSeconds {
                throw Finding.warn("lists.offline", "\(summary); \(countdown): checks refused in \(Self.days(Double(refusal)))",
                                   hint: "the terminal must reach the center before security.max_offline passes")
            }
        }
        return .ok(summary)
    }

    func gpsdStep() async throws -> Finding {
        guard let gps = configuration.gps.gpsd else { throw Finding.notApplicable("gps.not-configured", "location is off (gps.gpsd = off)") }
        let service = LocationService(gps)
        let task = Task { await service.run() }
        let deadline = Date().addingTimeInterval(options.gpsWait)
        let unreachableAfter = Date().addingTimeInterval(min(1, options.gpsWait))
        while Date() < deadline, !service.state().hasCurrentFix {
            // An unreachable gpsd will not answer in the next seconds either.
            if service.state().status == .noGpsd, Date() > unreachableAfter { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let state = service.state()
        task.cancel()
        await task.value
        var detail = "gpsd \(state.gpsd): \(state.status.rawValue)"
        if let d = state.detail { detail += " — \(d)" }
        if let age = state.fixAgeSeconds { detail += String(format: ", fix %.1f s old", age) }
        switch state.status {
        case .noGpsd:
            throw Finding.fail("gpsd.unreachable", detail, hint: "gpsd is not running: systemctl start gpsd (Device/gpsd.default)")
        case .noDevice:
            throw Finding.fail("gpsd.no-device", detail, hint: "gpsd has no receiver: check the cable and /dev/gnss0 (Device/60-mpolice-gnss.rules)")
        case .noFix:
            throw Finding.warn("gpsd.no-fix", detail, hint: "no fix yet: move to open sky; a cold start can take minutes")
        case .stale:
            throw Finding.warn("gpsd.stale", detail, hint: "the receiver stopped reporting: check it and gpsd")
        case .fix2D, .fix3D:
            return .ok(detail)
        }
    }

    func databasesStep() throws -> Finding {
        var results: [String] = []
        var corrupt: [String] = [], unreadable: [String] = []
        for name in ["lists.db", "journal.db"] {
            do {
                let check = name == "lists.db" ? try ListsStore.openReadOnly(stateDirectory).quickCheck()
                    : try JournalStore.openReadOnly(path: stateDirectory.journalPath).quickCheck()
                if check == "ok" { results.append("\(name) ok") } else { corrupt.append("\(name): \(check.prefix(200))") }
            } catch let error as StoreError where error.code == .notFound {
                results.append("\(name) absent (the daemon creates it)")
            } catch {
                // SQLite's I/O errors (a full or failing disk) are not corruption of the file.
                let text = "\(error)"
                if text.contains("disk I/O error") || text.contains("unable to open") || text.contains("readonly") {
                    unreadable.append("\(name): \(text)")
                } else {
                    corrupt.append("\(name): \(text)")
                }
            }
        }
        if !corrupt.isEmpty {
            throw Finding.fail("database.corrupt", (corrupt + unreadable).joined(separator: "; "),
                               hint: "lists.db: stop the daemon, remove it and sync again; journal.db: keep it and call the helpdesk (it holds records not yet at the center)")
        }
        if !unreadable.isEmpty {
            throw Finding.fail("database.unreadable", unreadable.joined(separator: "; "),
                               hint: "the files cannot be read (see the disk step; run diag as root)")
        }
        return .ok("quick_check: " + results.joined(separator: ", "))
    }

    func diskStep() throws -> Finding {
        let path = stateDirectory.url.path
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            throw Finding.fail("disk.unreadable", "cannot read the file system of \(path)", hint: "is the state partition mounted (Device/README.md)?")
        }
        let free = Double(info.f_bavail) * Double(info.f_frsize)
        let total = Double(info.f_blocks) * Double(info.f_frsize)
        let listsSize = (try? stateDirectory.currentListsFile()).flatMap { $0 }
            .flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Double } ?? 0
        // A snapshot builds a whole new generation beside the current one, plus its download.
        let needed = listsSize + 64 * 1_048_576
        let mb = { (bytes: Double) in String(format: "%.0f MB", bytes / 1_048_576) }
        let detail = "\(mb(free)) free of \(mb(total)) on \(path); a snapshot sync needs about \(mb(needed))"
        if free < needed {
            throw Finding.fail("disk.full", detail, hint: "free space on the state partition: a list snapshot cannot be applied, and check records may fail to save")
        }
        if free < 2 * needed {
            throw Finding.warn("disk.low", detail, hint: "free space on the state partition soon")
        }
        return .ok(detail)
    }

    func openJournal() throws -> JournalStore {
        do {
            return try JournalStore.openReadOnly(path: stateDirectory.journalPath, outboxLimits: configuration.uplink.limits)
        } catch let error as StoreError where error.code == .notFound {
            throw Finding.warn("journal.missing", "no journal.db in \(stateDirectory.url.path) yet", hint: "the daemon creates it when it starts")
        } catch let error as StoreError {
            throw Finding.fail("journal.unreadable", error.message, hint: "see the databases step")
        }
    }
}
