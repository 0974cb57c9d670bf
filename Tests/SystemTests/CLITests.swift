import Central
import FieldSync
import FieldWire
import Foundation
import TestSupport
import Testing
import Watchlist

@Suite("mpolicectl and mpolice-central as built")
struct CLITests {
    /// One generated state directory per test (tests run in parallel).
    static func generated(records: Int = 1_000) throws -> Scratch {
        let scratch = try Scratch()
        let run = try Programs.run("mpolice-central", ["generate", "--out", scratch.path, "--records", "\(records)", "--seed", "5"])
        #expect(run.status == 0, "\(run.stderr)")
        return scratch
    }

    @Test("generate writes the data set and a ready lists.db")
    func generate() throws {
        let s = try Self.generated()
        defer { s.remove() }
        for name in ["lists.db", "dataset/dataset.json", "dataset/stolen-vehicles.csv", "dataset/wanted-persons.csv", "dataset/missing-persons.csv"] {
            #expect(FileManager.default.fileExists(atPath: s.url.appendingPathComponent(name).path), "\(name)")
        }
        let status = try Programs.run("mpolicectl", ["status", "--db", s.path, "--json"])
        #expect(status.status == 0)
        let lists = try status.json()["lists"] as? [[String: Any]] ?? []
        #expect(lists.map { $0["recordCount"] as? Int } == [650, 250, 100, 5], "the three lists and the demo roster")
        #expect((try status.json()["integrity"] as? [String: String])?["lists"] == "ok")
    }

    @Test("check plate --json prints the stable answer and exits 0")
    func checkPlateJSON() throws {
        let s = try Self.generated()
        defer { s.remove() }
        let run = try Programs.run("mpolicectl", ["check", "plate", DemoRecords.stolenPlate, "--db", s.path, "--officer", "OF-1", "--json"])
        #expect(run.status == 0)
        let answer = try JSONDecoder().decode(CheckAnswer.self, from: Data(run.stdout.utf8))
        #expect(answer.outcome == .hit)
        #expect(answer.confirmBeforeActing)
        #expect(answer.officerId == "OF-1")
        #expect(answer.lists[0].matches[0].record.recordId == "SV00000000")

        let near = try Programs.run("mpolicectl", ["check", "plate", "8LT8023", "--db", s.path, "--officer", "OF-1", "--json"])
        #expect(try near.json()["outcome"] as? String == "possible-hit")

        let status = try Programs.run("mpolicectl", ["status", "--db", s.path, "--json"])
        #expect(try status.json()["checkRecords"] as? Int == 2)
    }

    @Test("human output leads with the verdict")
    func humanOutput() throws {
        let s = try Self.generated()
        defer { s.remove() }
        let run = try Programs.run("mpolicectl", ["check", "person", "--id", DemoRecords.wantedID, "--purpose", "law-6-1", "--db", s.path],
                                   environment: ["MPOLICE_OFFICER": "OF-2"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("HIT — confirm with the center before acting"))
        #expect(run.stdout.contains("CAUTION: armed, violent"))
    }

    @Test("mpolicectl follows LANG=zh_TW.UTF-8: the verdict, the list lines and the warnings in Traditional Chinese; --json keeps its codes")
    func chineseLocale() throws {
        let s = try Self.generated()
        defer { s.remove() }
        let environment = ["MPOLICE_OFFICER": "OF-2", "LANG": "zh_TW.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""]
        let run = try Programs.run("mpolicectl", ["check", "plate", "8LT8023", "--db", s.path], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("可能命中——行動前須向勤務指揮中心確認"), "\(run.stdout)")
        #expect(run.stdout.contains("失竊車輛：可能命中"), "\(run.stdout)")
        #expect(run.stdout.contains("第 1 碼：輸入 8，列管 B"), "\(run.stdout)")
        #expect(run.stdout.contains("所輸入的車牌不符合任何臺灣車牌格式"), "\(run.stdout)")
        let json = try Programs.run("mpolicectl", ["check", "plate", "8LT8023", "--db", s.path, "--json"], environment: environment)
        let answer = try JSONDecoder().decode(CheckAnswer.self, from: Data(json.stdout.utf8))
        #expect(answer.warningDetails.map(\.code) == ["plate.layout-if-misread"])
        #expect(answer.lists[0].matches[0].reasonDetail.code == "plate.confusable")
        let english = try Programs.run("mpolicectl", ["check", "plate", "8LT8023", "--db", s.path], environment: ["MPOLICE_OFFICER": "OF-2", "LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""])
        #expect(english.stdout.hasPrefix("POSSIBLE HIT — confirm with the center before acting"), "\(english.stdout)")
        #expect(english.stdout.contains("stolen vehicles: possible hit"), "\(english.stdout)")
    }

    @Test("bad entries exit 2 with a specific JSON error", arguments: [
        (["check", "plate", ""], "input.empty", "plate"),
        (["check", "plate", "AB"], "input.wrong-length", "plate"),
        (["check", "plate", "ABC'; DROP TABLE stolen_vehicle;--"], "input.invalid-character", "plate"),
        (["check", "plate", "ABC\u{1B}1234"], "input.control-character", "plate"),
        (["check", "person", "--id", "A12345"], "input.wrong-length", "id"),
        (["check", "person", "--name", "林志明", "--dob", "1988-02-30"], "input.invalid-date", "dateOfBirth"),
        (["check", "vin", "123"], "input.wrong-length", "vin"),
    ])
    func badInput(arguments: [String], code: String, field: String) throws {
        let s = try Self.generated(records: 100)
        defer { s.remove() }
        let run = try Programs.run("mpolicectl", arguments + ["--db", s.path, "--officer", "OF-1", "--json"])
        #expect(run.status == 2)
        let error = try run.json()["error"] as? [String: String]
        #expect(error?["code"] == code)
        #expect(error?["field"] == field)
        #expect(try Programs.run("mpolicectl", ["status", "--db", s.path, "--json"]).json()["checkRecords"] as? Int == 0)
    }

    @Test("a check without a signed-in officer is refused")
    func noOfficer() throws {
        let s = try Self.generated(records: 100)
        defer { s.remove() }
        let run = try Programs.run("mpolicectl", ["check", "plate", "ABC-1235", "--db", s.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("no officer"))
    }

    @Test("a missing state directory exits 1 and says how to make one")
    func missingStore() throws {
        let run = try Programs.run("mpolicectl", ["check", "plate", "ABC-1235", "--db", "/nonexistent/mpolice", "--officer", "OF-1", "--json"])
        #expect(run.status == 1)
        #expect((try run.json()["error"] as? [String: String])?["code"] == "store.not-found")
    }

    @Test("--id together with --name is a usage error")
    func usage() throws {
        let run = try Programs.run("mpolicectl", ["check", "person", "--id", "A123456789", "--name", "X", "--dob", "2000-01-01"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("check person takes --id, or --name with --dob"))
    }

    @Test("mpoliced --prepare-only creates and verifies both databases")
    func daemonPrepare() throws {
        let s = try Scratch()
        defer { s.remove() }
        let run = try Programs.run("mpoliced", ["--state-dir", s.path, "--prepare-only"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: s.url.appendingPathComponent("journal.db").path))
        #expect(FileManager.default.fileExists(atPath: s.url.appendingPathComponent("lists.db").path))
    }

    @Test("sync with nothing listening exits 3 with the reason code, and status shows the failed attempt")
    func syncFailure() throws {
        let s = try Scratch()
        defer { s.remove() }
        let keys = s.url.appendingPathComponent("keys")
        #expect(try Programs.run("mpolice-central", ["keys", "init", "--dir", keys.path]).status == 0)
        let port = try LoopbackPort.free()
        let run = try Programs.run("mpolicectl", ["sync", "--db", s.path, "--central", "https://127.0.0.1:\(port)/", "--ca", keys.appendingPathComponent("root.json").path,
                                                 "--root", keys.appendingPathComponent("root.json").path, "--connect-timeout", "2", "--json"])
        #expect(run.status == 3)
        let error = try run.json()["error"] as? [String: Any]
        #expect(error?["code"] as? String == "sync.network")
        let status = try Programs.run("mpolicectl", ["status", "--db", s.path, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let last = try status.json()["lastSync"] as? [String: Any]
        #expect(last?["outcome"] as? String == "failed")
        #expect(last?["reason"] as? String == "network")
    }

    /// The keys the issues name, spelled out here as the oracle: a key the bench renames or
    /// stops writing fails the test.
    static let benchKeys: Set<String> = [
        "bench_records", "bench_checks", "bench_registrations", "bench_licences",
        "registrations_load_s", "registrations_sqlite3_import_s", "registrations_load_vs_sqlite3_ratio",
        "check_plate_with_registration_p50_us", "raw_plate_and_registration_p50_us", "plate_with_registration_vs_raw_ratio",
        "registrations_snapshot_full_bytes", "registrations_snapshot_exceptions_bytes", "licences_snapshot_full_bytes",
        "licences_snapshot_exceptions_bytes", "registrations_delta_10k_ms", "raw_registrations_delta_10k_ms",
        "registrations_delta_10k_wire_bytes",
        "check_plate_p50_us", "check_plate_p99_us", "check_plate_nojournal_p50_us", "check_plate_nojournal_p99_us",
        "raw_sqlite_lookup_p50_us", "check_vs_raw_ratio", "load_1m_s", "sqlite3_import_1m_s", "load_vs_sqlite3_ratio",
        "sync_snapshot_1m_s", "sync_snapshot_vs_sqlite3_ratio", "sync_delta_10k_ms", "raw_sqlite_delta_10k_ms", "raw_sqlite_delta_reading_10k_ms",
        "sync_delta_apply_ms", "sync_delta_checkpoint_ms", "delta_10k_wire_bytes", "delta_10k_raw_bytes", "check_p99_during_sync_us",
        "daemon_ready_ms", "api_check_p50_us", "api_check_p99_us", "api_checks_per_s", "rss_mb_after_checks",
        "outbox_enqueue_p50_us", "outbox_enqueue_p99_us", "raw_durable_insert_p99_us",
        "uplink_10k_s", "uplink_items_per_s", "uplink_10k_wire_bytes", "uplink_10k_payload_bytes",
        "emergency_to_center_p50_ms", "emergency_to_center_p99_ms", "check_to_center_p99_ms",
        "bulletin_matchable_p50_ms", "bulletin_matchable_p99_ms", "dispatch_to_terminal_p99_ms",
        "confirmation_round_trip_p50_ms", "confirmation_round_trip_p99_ms",
        "api_overhead_us", "deb_bytes", "installed_bytes", "icu_data_bytes", "daemon_idle_rss_mb", "daemon_idle_anon_mb",
        "daemon_idle_cpu_pct", "daemon_wakeups_per_s", "api_check_after_trim_ms", "sync_delta_vs_raw_ratio",
        "signin_p50_ms", "signin_p99_ms",
        "check_person_id_nojournal_p50_us", "raw_sqlite_id_lookup_p50_us", "check_person_vs_raw_ratio",
        "photo_prefetch_s", "curl_photos_s", "photo_prefetch_per_s", "photo_prefetch_bytes", "photo_prefetch_vs_curl_ratio",
        "photo_get_p50_ms", "photo_get_p99_ms", "photo_file_read_p50_ms", "photo_uncached_32kbps_s", "photo_link_floor_32kbps_s",
        "bench_fleet_terminals", "fleet_terminals", "fleet_long_polls_held_median", "fleet_items_per_s", "fleet_upload_p50_ms",
        "fleet_upload_p99_ms", "fleet_center_cpu_pct", "fleet_center_rss_mb", "fleet_postgres_cpu_pct", "fleet_nginx_rss_mb",
        "fleet_db_bytes_per_day", "fleet_lost_items", "fleet_morning_catchup_bytes", "fleet_morning_snapshot_bytes",
    ]

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the benchmark runs at a tiny size and writes exactly the named keys, each a measured positive figure, ratios consistent, a table rendered")
    func benchTiny() throws {
        let s = try Scratch()
        defer { s.remove() }
        let out = s.url.appendingPathComponent("bench.json").path
        let readme = s.url.appendingPathComponent("README.md")
        try "before\n<!-- figures: rendered from bench-results.json by `make bench`; do not edit by hand -->\nold\n<!-- end of figures -->\nafter\n"
            .write(to: readme, atomically: true, encoding: .utf8)
        // A stand-in package, 1,234 KiB installed (make bench measures the one make deb builds
        // from static release binaries; the debug ones here need the Swift runtime installed).
        let package = try s.url.appendingPathComponent("package/DEBIAN").creatingDirectory()
        try "Package: mpolice-agent\nVersion: 0.0.1\nArchitecture: all\nMaintainer: test <t@example>\nInstalled-Size: 1234\nDescription: stand-in\n"
            .write(to: package.appendingPathComponent("control"), atomically: true, encoding: .utf8)
        let deb = s.url.appendingPathComponent("stand-in.deb").path
        let built = try Programs.system("/usr/bin/dpkg-deb", ["--root-owner-group", "--build", package.deletingLastPathComponent().path, deb])
        #expect(built.status == 0, "\(built.stderr)")
        let run = try Programs.run("mpolice-bench", ["--records", "2000", "--checks", "200", "--photos", "100", "--work", s.url.appendingPathComponent("work").path,
                                                     "--out", out, "--readme", readme.path, "--idle-seconds", "3",
                                                     "--registrations", "20000", "--licences", "5000",
                                                     "--fleet-terminals", "200", "--fleet-seconds", "90",
                                                     "--deb", deb,
                                                     "--packaged", Programs.binDirectory.appendingPathComponent("mpolice").path])
        #expect(run.status == 0, "\(run.stderr)")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Double] ?? [:]
        #expect(Set(results.keys) == Self.benchKeys, "extra: \(Set(results.keys).subtracting(Self.benchKeys)), missing: \(Self.benchKeys.subtracting(results.keys))")
        // Idle CPU over the tiny run's 3 s can round to 0 (clock ticks of 10 ms), and no fleet item
        // may be lost; the others are counts and sizes.
        for (key, value) in results {
            #expect(value.isFinite && (value > 0 || ["daemon_idle_cpu_pct", "fleet_lost_items"].contains(key) && value == 0), "\(key) = \(value)")
        }
        #expect(results["fleet_lost_items"] == 0 && results["bench_fleet_terminals"] == 200 && results["fleet_terminals"] == 200,
                "every simulated terminal held a long poll, nothing lost across the PostgreSQL restart")
        #expect(results["bench_records"] == 2000 && results["bench_checks"] == 200)
        for (ratio, value, reference) in [("check_vs_raw_ratio", "check_plate_nojournal_p50_us", "raw_sqlite_lookup_p50_us"),
                                          ("load_vs_sqlite3_ratio", "load_1m_s", "sqlite3_import_1m_s"),
                                          ("sync_snapshot_vs_sqlite3_ratio", "sync_snapshot_1m_s", "sqlite3_import_1m_s"),
                                          ("check_person_vs_raw_ratio", "check_person_id_nojournal_p50_us", "raw_sqlite_id_lookup_p50_us"),
                                          ("photo_prefetch_vs_curl_ratio", "photo_prefetch_s", "curl_photos_s"),
                                          ("sync_delta_vs_raw_ratio", "sync_delta_10k_ms", "raw_sqlite_delta_10k_ms"),
                                          ("registrations_load_vs_sqlite3_ratio", "registrations_load_s", "registrations_sqlite3_import_s"),
                                          ("plate_with_registration_vs_raw_ratio", "check_plate_with_registration_p50_us", "raw_plate_and_registration_p50_us")] {
            let expected = results[value]! / results[reference]!
            #expect(abs(results[ratio]! - expected) <= 0.002 * max(1, expected), "\(ratio)")
        }
        #expect(results["rss_mb_after_checks"]! > 5 && results["rss_mb_after_checks"]! < 2_000, "the daemon's resident set, in MB")
        #expect(run.stdout.contains("sqlite3 .import: stolen_vehicle") && run.stdout.contains("as loaded"), "counts checked equal")
        let rendered = try String(contentsOf: readme, encoding: .utf8)
        #expect(rendered.hasPrefix("before\n") && rendered.hasSuffix("<!-- end of figures -->\nafter\n") && !rendered.contains("old"))
        #expect(rendered.contains("`make bench` with 2,000 records and 200 checks"))
        #expect(rendered.components(separatedBy: "\n| ").count - 1 == 49, "header and 48 figure rows: \(rendered)")
        #expect(results["photo_prefetch_bytes"]! > 100 * 20_000, "every photo prefetched: real JPEGs of 20–60 kB")
        #expect(results["installed_bytes"].map { Int($0) } == 1_263_616, "the package's Installed-Size, 1,234 KiB")
        #expect(results["icu_data_bytes"]! > 10_000_000, "ICU's data table, found in what the binary loads")
        #expect(results["daemon_idle_cpu_pct"]! < 100 && results["daemon_idle_rss_mb"]! > 5)
    }

    @Test("the README's figures table is the committed bench-results.json's, rendered")
    func readmeFigures() throws {
        let s = try Scratch()
        defer { s.remove() }
        let copy = s.url.appendingPathComponent("README.md")
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("README.md"), to: copy)
        let run = try Programs.run("mpolice-bench", ["--render-only", "--readme", copy.path,
                                                     "--out", Self.repository.appendingPathComponent("bench-results.json").path])
        #expect(run.status == 0, "\(run.stderr)")
        let committed = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(try String(contentsOf: copy, encoding: .utf8) == committed,
                "README.md's figures differ from bench-results.json: run mpolice-bench --render-only --readme README.md")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent("bench-results.json"))) as? [String: Double] ?? [:]
        #expect(Set(results.keys) == Self.benchKeys)
        #expect(results["bench_records"] == 1_000_000, "the committed figures are the full-size run's")
    }
}

@Suite("mpolice-central keys")
struct KeysCLITests {
    @Test("keys init writes private keys 0600 and a root.json that bootstraps trust; never overwrites")
    func keysInit() throws {
        let s = try Scratch()
        defer { s.remove() }
        let dir = s.url.appendingPathComponent("keys").path
        let run = try Programs.run("mpolice-central", ["keys", "init", "--dir", dir])
        #expect(run.status == 0, "\(run.stderr)")
        for name in ["root.key", "manifest.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/\(name)")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        let envelope = try SignedEnvelope.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/root.json")))
        let trust = try TrustState.bootstrap(envelope)
        #expect(trust.root.version == 1)
        #expect(!(try String(contentsOfFile: "\(dir)/root.json", encoding: .utf8)).contains(
            try String(contentsOfFile: "\(dir)/root.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/root.key"))
        let again = try Programs.run("mpolice-central", ["keys", "init", "--dir", dir])
        #expect(again.status == 1)
        #expect(again.stderr.contains("never overwritten"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/root.key")) == before)
    }
}

@Suite("mpolice, the multi-call binary the package ships")
struct MultiCallTests {
    @Test("run by the name of a link it is that program — the daemon, the CLI, the screen bridge; by any other name it says how and exits 64")
    func byName() throws {
        let s = try Scratch("multicall")
        defer { s.remove() }
        let binary = Programs.binDirectory.appendingPathComponent("mpolice").path
        for (name, overview) in [("mpoliced", "M-Police field terminal daemon."),
                                 ("mpolicectl", "Checks, status and diagnostics for the M-Police field terminal."),
                                 ("mpolice-screen", "Serve the officer's screen on loopback")] {
            let link = s.url.appendingPathComponent(name).path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binary)
            let help = try Programs.system(link, ["--help"])
            #expect(help.status == 0 && help.stdout.contains("OVERVIEW: \(overview)"), "\(name): \(help.stdout.prefix(200))")
        }
        // The CLI through the link does its work (an asynchronous root command, run as such).
        let status = try Programs.system(s.url.appendingPathComponent("mpolicectl").path, ["status", "--db", s.url.appendingPathComponent("none").path])
        #expect(status.status == 1 && status.stderr.contains("store.not-found"), "\(status.stderr)")
        let daemon = try Programs.system(s.url.appendingPathComponent("mpoliced").path, ["--config", s.url.appendingPathComponent("missing.conf").path])
        #expect(daemon.status == 78, "a missing configuration is EX_CONFIG: \(daemon.stderr)")
        let bare = try Programs.system(binary, ["status"])
        #expect(bare.status == 64 && bare.stderr.contains("run as mpoliced, mpolicectl or mpolice-screen"))
    }
}
