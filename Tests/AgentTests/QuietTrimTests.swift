@testable import Agent
import Central
import Foundation
import Logging
import LocalAPI
import Store
import TestSupport
import Testing
import Watchlist

/// Handing memory back when the front end is quiet: when (a pure decision on the clock), and
/// what (SQLite's caches and the process's own read-only file pages, measured in smaps).
@Suite("Quiet trim: memory handed back after api.trim_after quiet seconds")
struct QuietTrimTests {
    @Test("it trims once the last request is trim_after old, once per quiet spell; before that it sleeps until the spell could end")
    func decision() {
        let quiet: Int64 = 30_000
        #expect(QuietSpell.step(lastRequest: 1_000, idleMilliseconds: 12_000, quietMilliseconds: quiet, trimmedAfter: nil) == .wait(milliseconds: 18_000))
        #expect(QuietSpell.step(lastRequest: 1_000, idleMilliseconds: 30_000, quietMilliseconds: quiet, trimmedAfter: nil) == .trim)
        #expect(QuietSpell.step(lastRequest: 1_000, idleMilliseconds: 95_000, quietMilliseconds: quiet, trimmedAfter: 1_000) == .wait(milliseconds: quiet),
                "already trimmed after that request: look again a spell later")
        #expect(QuietSpell.step(lastRequest: 50_000, idleMilliseconds: 31_000, quietMilliseconds: quiet, trimmedAfter: 1_000) == .trim,
                "a request since the last trim, then a spell")
        #expect(QuietSpell.step(lastRequest: 50_000, idleMilliseconds: 2_000, quietMilliseconds: quiet, trimmedAfter: 1_000) == .wait(milliseconds: 28_000))
    }

    @Test("the private file mappings are the code, constant and writable data of files, not anonymous, shared or special ones")
    func mappings() {
        let maps = """
            55d0c0000000-55d0c2000000 r-xp 00000000 103:02 1234 /usr/bin/mpolice
            55d0c2000000-55d0c2100000 r--p 02000000 103:02 1234 /usr/bin/mpolice
            55d0c2100000-55d0c2200000 rw-p 02100000 103:02 1234 /usr/bin/mpolice
            55d0c2200000-55d0c2400000 rw-p 00000000 00:00 0 [heap]
            7f0000000000-7f0000001000 r--p 00000000 00:00 0
            7f0000001000-7f0000002000 rw-s 00000000 103:02 99 /var/lib/mpolice/journal.db-shm
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
            """
        #expect(ProcessMemory.privateFileMappings(maps) == [0x55d0c0000000..<0x55d0c2000000, 0x55d0c2000000..<0x55d0c2100000,
                                                          0x55d0c2100000..<0x55d0c2200000])
    }

    @Test("a trim releases the stores' caches and pages out this process's own code: its resident code pages drop, checks go on")
    func trim() throws {
        let terminal = try LoadedTerminal("quiet-trim", records: 2_000, seed: 5)
        defer { terminal.remove() }
        let (lists, journal) = (terminal.lists, terminal.journal)
        let checker = Checker(lists: lists, journal: journal)
        let context = try CheckContext(officerId: "OF-1", unitId: "TPE-DA-01")
        #expect(try checker.check(.plate(DemoRecords.stolenPlate), context: context).outcome == .hit)

        let before = try Self.residentReadOnlyFileKilobytes()
        lists.releaseMemory()
        journal.releaseMemory()
        ProcessMemory.trim()
        let after = try Self.residentReadOnlyFileKilobytes()
        #expect(before > 1_000 && after < before / 2, "resident read-only file pages: \(before) kB before, \(after) kB after")
        #expect(try checker.check(.plate(DemoRecords.stolenPlate), context: context).outcome == .hit, "the caches fill again")
    }

    /// Resident kilobytes of this process's read-only file mappings that no other process maps.
    static func residentReadOnlyFileKilobytes() throws -> Int {
        var total = 0, counting = false
        let smaps = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5, first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                counting = (fields[1] == "r-xp" || fields[1] == "r--p") && fields.count >= 6 && fields[5].hasPrefix("/")
            } else if counting, fields.first == "Private_Clean:", let kb = Int(fields[1]) {
                total += kb
            }
        }
        return total
    }
}
