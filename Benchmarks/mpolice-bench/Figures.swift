import Foundation

/// Every figure `make bench` reports, with its unit, its reference from the same run and its
/// goal: the keys bench-results.json must hold after a run, the goals the run prints, and
/// the README's table, rendered from bench-results.json so that the two cannot drift.
enum Figures {
    enum Unit {
        case microseconds, milliseconds, seconds, megabytes, perSecond, bytes, percent, count

        func format(_ v: Double) -> String {
            switch self {
            case .microseconds: v >= 100 ? "\(grouped(v)) µs" : String(format: "%.1f µs", v)
            case .milliseconds: v >= 100 ? "\(grouped(v)) ms" : String(format: "%.1f ms", v)
            case .seconds: String(format: "%.2f s", v)
            case .megabytes: String(format: "%.0f MB", v)
            case .perSecond: "\(grouped(v)) /s"
            case .bytes: v >= 1_000_000 ? String(format: "%.2f MB", v / 1_000_000) : String(format: "%.0f kB", v / 1_000)
            case .percent: String(format: "%.2f %%", v)
            case .count: grouped(v)
            }
        }

        /// The number without its unit, for "p50 / p99" pairs that share one.
        func number(_ v: Double) -> String {
            let text = format(v)
            guard let space = text.lastIndex(of: " ") else { return text }
            return String(text[..<space])
        }

        /// The unit as the table writes it after a pair of numbers ("" for a count).
        var suffix: String {
            let text = format(0)
            guard let space = text.lastIndex(of: " ") else { return "" }
            return String(text[space...])
        }

        private func grouped(_ v: Double) -> String {
            let digits = String(Int(v.rounded()))
            var out = ""
            for (i, c) in digits.reversed().enumerated() {
                if i > 0, i % 3 == 0 { out.append(",") }
                out.append(c)
            }
            return String(out.reversed())
        }
    }

    /// A limit on one key's value, or on the ratio of the row's value to its reference: at
    /// most `limit`, or with `atLeast` at least.
    struct Goal {
        let key: String
        let limit: Double
        let onRatio: Bool
        let text: String
        var atLeast = false

        func met(_ values: [String: Double], reference: String?) -> Bool? {
            guard let value = values[key] else { return nil }
            var measured = value
            if onRatio {
                guard let reference, let base = values[reference], base > 0 else { return nil }
                measured = value / base
            }
            return atLeast ? measured >= limit : measured <= limit
        }
    }

    struct Row {
        let label: String
        let keys: [(key: String, unit: Unit)]
        /// What the first key is measured against, in the same run.
        var reference: (label: String, key: String, unit: Unit)? = nil
        var goals: [Goal] = []
    }

    static let rows: [Row] = [
        Row(label: "plate check without journal, p50", keys: [("check_plate_nojournal_p50_us", .microseconds)],
            reference: ("raw SQLite prepared lookup", "raw_sqlite_lookup_p50_us", .microseconds),
            goals: [Goal(key: "check_plate_nojournal_p50_us", limit: 3, onRatio: true, text: "ratio ≤ 3")]),
        Row(label: "plate check without journal, p99", keys: [("check_plate_nojournal_p99_us", .microseconds)]),
        Row(label: "plate check with its durable journal record and outbox item, p50 / p99",
            keys: [("check_plate_p50_us", .microseconds), ("check_plate_p99_us", .microseconds)],
            goals: [Goal(key: "check_plate_p99_us", limit: 1_000, onRatio: false, text: "p99 ≤ 1,000 µs")]),
        Row(label: "ID check (person records carry photo references), without journal, p50",
            keys: [("check_person_id_nojournal_p50_us", .microseconds)],
            reference: ("raw SQLite, the same ID and neighbour lookups", "raw_sqlite_id_lookup_p50_us", .microseconds),
            goals: [Goal(key: "check_person_id_nojournal_p50_us", limit: 3, onRatio: true, text: "ratio ≤ 3")]),
        Row(label: "outbox enqueue (check record + outbox item, one synchronous=FULL commit), p99 / p50",
            keys: [("outbox_enqueue_p99_us", .microseconds), ("outbox_enqueue_p50_us", .microseconds)],
            reference: ("raw SQLite durable INSERT, p99", "raw_durable_insert_p99_us", .microseconds)),
        Row(label: "upload 10,000 check records through nginx (mTLS) to `mpolice-central serve`",
            keys: [("uplink_10k_s", .seconds), ("uplink_items_per_s", .perSecond)]),
        Row(label: "… on the wire (gzip batches of 500)", keys: [("uplink_10k_wire_bytes", .bytes)],
            reference: ("the JSON payloads", "uplink_10k_payload_bytes", .bytes)),
        Row(label: "emergency enqueue → stored at the center through nginx, p99 / p50",
            keys: [("emergency_to_center_p99_ms", .milliseconds), ("emergency_to_center_p50_ms", .milliseconds)],
            reference: ("a routine check the same way, p99", "check_to_center_p99_ms", .milliseconds),
            goals: [Goal(key: "emergency_to_center_p99_ms", limit: 2_000, onRatio: false, text: "p99 ≤ 2 s")]),
        Row(label: "urgent bulletin created at the center → matchable on the terminal (long poll through nginx), p99 / p50",
            keys: [("bulletin_matchable_p99_ms", .milliseconds), ("bulletin_matchable_p50_ms", .milliseconds)],
            reference: ("a dispatch the same way, p99", "dispatch_to_terminal_p99_ms", .milliseconds),
            goals: [Goal(key: "bulletin_matchable_p99_ms", limit: 2_000, onRatio: false, text: "p99 ≤ 2 s")]),
        Row(label: "hit confirmation asked → the center's answer on the terminal, p99 / p50",
            keys: [("confirmation_round_trip_p99_ms", .milliseconds), ("confirmation_round_trip_p50_ms", .milliseconds)],
            reference: ("the emergency's way up alone, p99", "emergency_to_center_p99_ms", .milliseconds),
            goals: [Goal(key: "confirmation_round_trip_p99_ms", limit: 2_000, onRatio: false, text: "p99 ≤ 2 s")]),
        Row(label: "load 1M records into a fresh lists.db", keys: [("load_1m_s", .seconds)],
            reference: ("`sqlite3 .import`, like for like", "sqlite3_import_1m_s", .seconds),
            goals: [Goal(key: "load_1m_s", limit: 1.5, onRatio: true, text: "ratio ≤ 1.5")]),
        Row(label: "sync a 1M-record snapshot: fetch + verify + apply", keys: [("sync_snapshot_1m_s", .seconds)],
            reference: ("`sqlite3 .import`, like for like", "sqlite3_import_1m_s", .seconds),
            goals: [Goal(key: "sync_snapshot_1m_s", limit: 2, onRatio: true, text: "ratio ≤ 2")]),
        Row(label: "sync a 10,000-change delta onto the 1M lists (manifest fetch → commit)", keys: [("sync_delta_10k_ms", .milliseconds)],
            reference: ("raw SQLite, the same writes", "raw_sqlite_delta_10k_ms", .milliseconds),
            goals: [Goal(key: "sync_delta_10k_ms", limit: 300, onRatio: false, text: "≤ 300 ms"),
                    Goal(key: "sync_delta_10k_ms", limit: 1.2, onRatio: true, text: "ratio ≤ 1.2")]),
        Row(label: "… of it, the apply alone: the fetched files read, the lists written, to the commit",
            keys: [("sync_delta_apply_ms", .milliseconds)], reference: ("raw SQLite, the same writes", "raw_sqlite_delta_10k_ms", .milliseconds)),
        Row(label: "… raw SQLite's same writes, each after reading the stored record (as the list's content digest needs)",
            keys: [("raw_sqlite_delta_reading_10k_ms", .milliseconds)], reference: ("the writes alone", "raw_sqlite_delta_10k_ms", .milliseconds)),
        Row(label: "… then the WAL checkpoint (durable in the file; checks already answer)",
            keys: [("sync_delta_checkpoint_ms", .milliseconds)]),
        Row(label: "… the delta on the wire", keys: [("delta_10k_wire_bytes", .bytes)],
            reference: ("uncompressed", "delta_10k_raw_bytes", .bytes)),
        Row(label: "plate check with its journal record, p99, while a snapshot generation swaps in",
            keys: [("check_p99_during_sync_us", .microseconds)],
            goals: [Goal(key: "check_p99_during_sync_us", limit: 2_000, onRatio: false, text: "≤ 2,000 µs")]),
        Row(label: "`mpoliced` exec → READY=1 with the 1M records", keys: [("daemon_ready_ms", .milliseconds)],
            goals: [Goal(key: "daemon_ready_ms", limit: 500, onRatio: false, text: "≤ 500 ms")]),
        Row(label: "plate check over the socket (1 client, keep-alive), p50 / p99",
            keys: [("api_check_p50_us", .microseconds), ("api_check_p99_us", .microseconds)],
            reference: ("in-process with journal, p50", "check_plate_p50_us", .microseconds),
            goals: [Goal(key: "api_check_p99_us", limit: 2_000, onRatio: false, text: "p99 ≤ 2,000 µs")]),
        Row(label: "plate checks over the socket, 8 clients", keys: [("api_checks_per_s", .perSecond)]),
        Row(label: "officer sign-in over the socket (scrypt N = 2^15, r = 8, p = 1), p50 / p99",
            keys: [("signin_p50_ms", .milliseconds), ("signin_p99_ms", .milliseconds)],
            goals: [Goal(key: "signin_p99_ms", limit: 300, onRatio: false, text: "p99 ≤ 300 ms")]),
        Row(label: "… the socket's cost over the in-process check, p50", keys: [("api_overhead_us", .microseconds)],
            goals: [Goal(key: "api_overhead_us", limit: 100, onRatio: false, text: "toward 100 µs")]),
        Row(label: "`mpoliced`'s resident set after those socket checks", keys: [("rss_mb_after_checks", .megabytes)]),
        Row(label: "the package (.deb) on the wire", keys: [("deb_bytes", .bytes)],
            reference: ("installed", "installed_bytes", .bytes),
            goals: [Goal(key: "deb_bytes", limit: 15_000_000, onRatio: false, text: "≤ 15 MB")]),
        Row(label: "… installed (one multi-call binary for mpoliced, mpolicectl, mpolice-screen)", keys: [("installed_bytes", .bytes)],
            reference: ("of it ICU's data, cut to the terminal's locales", "icu_data_bytes", .bytes),
            goals: [Goal(key: "installed_bytes", limit: 60_000_000, onRatio: false, text: "≤ 60 MB")]),
        Row(label: "packaged daemon, 1M records, 10,000 socket checks, then idle: resident set / private dirty",
            keys: [("daemon_idle_rss_mb", .megabytes), ("daemon_idle_anon_mb", .megabytes)],
            goals: [Goal(key: "daemon_idle_rss_mb", limit: 40, onRatio: false, text: "≤ 40 MB")]),
        Row(label: "… the first socket check after it handed memory back (`api.trim_after`)", keys: [("api_check_after_trim_ms", .milliseconds)]),
        Row(label: "… idle CPU (gpsd at 1 Hz, sync and uplink configured and quiet)", keys: [("daemon_idle_cpu_pct", .percent)],
            goals: [Goal(key: "daemon_idle_cpu_pct", limit: 0.5, onRatio: false, text: "≤ 0.5 %")]),
        Row(label: "… wakeups (context switches of all its threads)", keys: [("daemon_wakeups_per_s", .perSecond)]),
        Row(label: "prefetch 10,000 photos through nginx (mTLS), one at a time", keys: [("photo_prefetch_s", .seconds), ("photo_prefetch_per_s", .perSecond)],
            reference: ("curl, the same files over one connection", "curl_photos_s", .seconds)),
        Row(label: "… their bytes", keys: [("photo_prefetch_bytes", .bytes)]),
        Row(label: "`GET /v1/photos/{sha256}` offline over the socket, p50 / p99",
            keys: [("photo_get_p50_ms", .milliseconds), ("photo_get_p99_ms", .milliseconds)],
            reference: ("reading the file, p50", "photo_file_read_p50_ms", .milliseconds),
            goals: [Goal(key: "photo_get_p99_ms", limit: 20, onRatio: false, text: "p99 ≤ 20 ms")]),
        Row(label: "a hit's uncached face photo on the device, 32 kB/s link, lists syncing (median of 5)",
            keys: [("photo_uncached_32kbps_s", .seconds)],
            reference: ("the link's floor for those bytes", "photo_link_floor_32kbps_s", .seconds),
            goals: [Goal(key: "photo_uncached_32kbps_s", limit: 30, onRatio: false, text: "≤ 30 s")]),
        Row(label: "load the registrations and licences (and 10,000 watch-list records) into a fresh lists.db",
            keys: [("registrations_load_s", .seconds)],
            reference: ("`sqlite3 .import`, like for like", "registrations_sqlite3_import_s", .seconds),
            goals: [Goal(key: "registrations_load_s", limit: 1.5, onRatio: true, text: "ratio ≤ 1.5")]),
        Row(label: "plate check that also reads the registration, without journal, p50",
            keys: [("check_plate_with_registration_p50_us", .microseconds)],
            reference: ("raw SQLite, the same two lookups", "raw_plate_and_registration_p50_us", .microseconds),
            goals: [Goal(key: "check_plate_with_registration_p50_us", limit: 3, onRatio: true, text: "ratio ≤ 3")]),
        Row(label: "registrations snapshot on the wire, exceptions only", keys: [("registrations_snapshot_exceptions_bytes", .bytes)],
            reference: ("full", "registrations_snapshot_full_bytes", .bytes)),
        Row(label: "licences snapshot on the wire, exceptions only", keys: [("licences_snapshot_exceptions_bytes", .bytes)],
            reference: ("full", "licences_snapshot_full_bytes", .bytes)),
        Row(label: "apply a 10,000-change registrations delta", keys: [("registrations_delta_10k_ms", .milliseconds)],
            reference: ("raw SQLite, the same writes", "raw_registrations_delta_10k_ms", .milliseconds)),
        Row(label: "… the delta on the wire", keys: [("registrations_delta_10k_wire_bytes", .bytes)]),
        Row(label: "fleet: simulated terminals with their long poll held, lowest / median over the steady part",
            keys: [("fleet_terminals", .count), ("fleet_long_polls_held_median", .count)],
            goals: [Goal(key: "fleet_terminals", limit: 2_000, onRatio: false, text: "≥ 2,000", atLeast: true)]),
        Row(label: "fleet: upload acknowledged through nginx by the center on PostgreSQL, p50 / p99",
            keys: [("fleet_upload_p50_ms", .milliseconds), ("fleet_upload_p99_ms", .milliseconds)],
            goals: [Goal(key: "fleet_upload_p99_ms", limit: 500, onRatio: false, text: "p99 ≤ 500 ms")]),
        Row(label: "fleet: items lost or duplicated, PostgreSQL restarted mid-run (generated and stored, compared)",
            keys: [("fleet_lost_items", .count)], goals: [Goal(key: "fleet_lost_items", limit: 0, onRatio: false, text: "0")]),
        Row(label: "fleet: items ingested", keys: [("fleet_items_per_s", .perSecond)]),
        Row(label: "fleet: the center's CPU (of one core) and resident set",
            keys: [("fleet_center_cpu_pct", .percent), ("fleet_center_rss_mb", .megabytes)],
            reference: ("PostgreSQL's CPU", "fleet_postgres_cpu_pct", .percent)),
        Row(label: "fleet: nginx's resident set (TLS for every terminal's connections)", keys: [("fleet_nginx_rss_mb", .megabytes)]),
        Row(label: "fleet: database growth per day of this traffic", keys: [("fleet_db_bytes_per_day", .bytes)]),
        Row(label: "a terminal's morning downlink after six hourly versions missed (1M records): the catch-up",
            keys: [("fleet_morning_catchup_bytes", .bytes)], reference: ("the snapshot", "fleet_morning_snapshot_bytes", .bytes)),
    ]

    /// Ratio keys the issues name, written beside the figures they divide.
    static let ratios: [String: (value: String, reference: String)] = [
        "check_vs_raw_ratio": ("check_plate_nojournal_p50_us", "raw_sqlite_lookup_p50_us"),
        "load_vs_sqlite3_ratio": ("load_1m_s", "sqlite3_import_1m_s"),
        "sync_snapshot_vs_sqlite3_ratio": ("sync_snapshot_1m_s", "sqlite3_import_1m_s"),
        "check_person_vs_raw_ratio": ("check_person_id_nojournal_p50_us", "raw_sqlite_id_lookup_p50_us"),
        "photo_prefetch_vs_curl_ratio": ("photo_prefetch_s", "curl_photos_s"),
        "sync_delta_vs_raw_ratio": ("sync_delta_10k_ms", "raw_sqlite_delta_10k_ms"),
        "registrations_load_vs_sqlite3_ratio": ("registrations_load_s", "registrations_sqlite3_import_s"),
        "plate_with_registration_vs_raw_ratio": ("check_plate_with_registration_p50_us", "raw_plate_and_registration_p50_us"),
    ]

    /// The run's sizes, written with the figures.
    static let sizes = ["bench_records", "bench_checks", "bench_registrations", "bench_licences", "bench_fleet_terminals"]

    /// Every key a complete run writes.
    static var keys: Set<String> {
        var all = Set(sizes).union(ratios.keys)
        for row in rows {
            all.formUnion(row.keys.map(\.key))
            if let reference = row.reference { all.insert(reference.key) }
        }
        return all
    }

    /// The goals printed beside `key` as the run measures it.
    static func goal(of key: String) -> String? {
        let texts = rows.flatMap(\.goals).filter { $0.key == key }.map(\.text)
        return texts.isEmpty ? nil : texts.joined(separator: "; ")
    }

    static let tableStart = "<!-- figures: rendered from bench-results.json by `make bench`; do not edit by hand -->"
    static let tableEnd = "<!-- end of figures -->"

    /// The README's table of `values` (a complete run's bench-results.json).
    static func table(_ values: [String: Double]) throws -> String {
        let missing = keys.subtracting(values.keys)
        guard missing.isEmpty else { throw BenchError("bench results lack \(missing.sorted().joined(separator: ", "))") }
        var lines = [
            "`make bench` with \(Unit.perSecond.number(values["bench_records"]!)) records and \(Unit.perSecond.number(values["bench_checks"]!)) checks "
                + "(document figures: \(Unit.perSecond.number(values["bench_registrations"]!)) registrations, \(Unit.perSecond.number(values["bench_licences"]!)) licences; "
                + "fleet figures: \(Unit.perSecond.number(values["bench_fleet_terminals"]!)) simulated terminals) on the 2-core development machine:",
            "",
            "| figure | value | reference (same run) | ratio | goal |",
            "|---|---|---|---|---|",
        ]
        for row in rows {
            let value: String
            if row.keys.count > 1, Set(row.keys.map { "\($0.unit)" }).count == 1 {
                value = row.keys.map { row.keys[0].unit.number(values[$0.key]!) }.joined(separator: " / ") + row.keys[0].unit.suffix
            } else {
                value = row.keys.map { $0.unit.format(values[$0.key]!) }.joined(separator: " / ")
            }
            var reference = "", ratio = ""
            if let r = row.reference {
                reference = "\(r.label) \(r.unit.format(values[r.key]!))"
                ratio = String(format: "%.2f", values[row.keys[0].key]! / values[r.key]!)
            }
            let goal = row.goals.map { g in g.text + (g.met(values, reference: row.reference?.key) == false ? ": **not met**" : "") }
                .joined(separator: "; ")
            lines.append("| \(row.label) | \(value) | \(reference) | \(ratio) | \(goal) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `readme` with the text between the table's markers replaced by `table(values)`.
    static func render(readme: String, values: [String: Double]) throws -> String {
        guard let start = readme.range(of: tableStart), let end = readme.range(of: tableEnd), start.upperBound <= end.lowerBound else {
            throw BenchError("the README has no figures table between \(tableStart) and \(tableEnd)")
        }
        return String(readme[..<start.upperBound]) + "\n" + (try table(values)) + "\n" + String(readme[end.lowerBound...])
    }
}
