import Foundation
import LocalAPI
import Logging
import ServiceLifecycle
import Store
import Watchlist

/// Hands memory back once the terminal's front end has been quiet for `api.trim_after`
/// seconds, and again after each later request and quiet spell (docs/packaging.md, memory):
/// SQLite's page and statement caches of the lists and the journal; the allocator's free
/// pages (`malloc_trim`); and this process's clean file pages — the program's code, constant
/// data and unwritten data, which the kernel maps in large folios around every fault — are reclaimed
/// (`MADV_PAGEOUT`) and read back from storage page by page when next run (`MADV_RANDOM`).
/// A check right after pays for that once (`make bench`: `api_check_after_trim_ms`). It
/// sleeps until the quiet spell could end, or for the spell itself after a trim: no ticking.
struct QuietTrim: Service {
    let activity: APIActivity
    let quiet: Duration
    let clock: any TerminalClock
    let lists: ListsStore
    let journal: JournalStore
    let logger: Logger

    func run() async {
        let quietMilliseconds = quiet.components.seconds * 1000
        await cancelWhenGracefulShutdown {
            var trimmedAfter: Int64?
            while !Task.isCancelled {
                let last = activity.lastRequest
                let idle = clock.monotonicMilliseconds - last
                var wait = quietMilliseconds
                switch QuietSpell.step(lastRequest: last, idleMilliseconds: idle, quietMilliseconds: quietMilliseconds, trimmedAfter: trimmedAfter) {
                case .trim:
                    await trim()
                    trimmedAfter = last
                case .wait(let milliseconds):
                    wait = milliseconds
                }
                try? await Task.sleep(for: .milliseconds(wait + 10))
            }
        }
    }

    /// One trim, on a thread of its own: releasing a connection's memory waits for a write
    /// under way on it (a sync's apply).
    func trim() async {
        let lists = lists, journal = journal, logger = logger
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                // The resident set is read only for the debug line that shows it.
                let before = logger.logLevel <= .debug ? ProcessMemory.residentKilobytes() : nil
                lists.releaseMemory()
                journal.releaseMemory()
                ProcessMemory.trim()
                logger.debug("quiet: memory handed back", metadata: ["rss_kb_before": "\(before ?? -1)",
                                                                     "rss_kb_after": "\(ProcessMemory.residentKilobytes() ?? -1)"])
                continuation.resume()
            }
            thread.name = "quiet-trim"
            thread.start()
        }
    }
}

/// What the quiet-trim does next, from when the last request came and whether it has
/// trimmed since.
enum QuietSpell: Equatable {
    case trim
    case wait(milliseconds: Int64)

    static func step(lastRequest: Int64, idleMilliseconds: Int64, quietMilliseconds: Int64, trimmedAfter: Int64?) -> QuietSpell {
        if trimmedAfter == lastRequest { return .wait(milliseconds: quietMilliseconds) }
        if idleMilliseconds >= quietMilliseconds { return .trim }
        return .wait(milliseconds: quietMilliseconds - max(0, idleMilliseconds))
    }
}

/// The process's own memory, handed back to the kernel.
enum ProcessMemory {
    /// The malloc arenas the daemon's threads share. glibc gives a thread that finds the
    /// arenas busy one of its own, up to 8 per core, and each keeps its own free memory,
    /// which a trim hands back only in part; two serve the daemon's few busy threads (the
    /// API's event loops and the pool) without waiting on each other (docs/packaging.md).
    static let mallocArenas: Int32 = 2

    /// Caps the arenas at `mallocArenas`: called first thing, before the daemon's threads
    /// start allocating.
    static func shareArenas() {
        _ = mallopt(mallocArenaMaxParameter, mallocArenas)
    }

    /// glibc's `mallopt` and its M_ARENA_MAX parameter (malloc.h).
    @_silgen_name("mallopt")
    private static func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private static let mallocArenaMaxParameter: Int32 = -8

    /// The allocator's free pages, then the process's private file-backed mappings
    /// (`MADV_PAGEOUT` reclaims only clean pages no other process maps: a writable mapping's
    /// pages once written are anonymous, and stay without swap).
    static func trim() {
        _ = mallocTrim(0)
        guard let maps = procFile("/proc/self/maps") else { return }
        for range in privateFileMappings(maps) {
            let start = UnsafeMutableRawPointer(bitPattern: range.lowerBound), length = Int(range.upperBound - range.lowerBound)
            // Read back page by page, as run: with readahead the kernel would bring back
            // (and map) large folios around each fault.
            _ = madvise(start, length, MADV_RANDOM)
            _ = madvise(start, length, madvisePageout)
        }
    }

    /// glibc's `malloc_trim` (malloc.h is not in Swift's Glibc module): frees the arenas'
    /// unused pages.
    @_silgen_name("malloc_trim")
    private static func mallocTrim(_ pad: Int) -> Int32

    /// Linux's MADV_PAGEOUT (5.4+): reclaim these pages.
    static let madvisePageout: Int32 = 21

    /// The address ranges of `maps` (as /proc/self/maps reads) that map a file privately:
    /// code, constant data, and data the program has not written (still the file's pages).
    static func privateFileMappings(_ maps: String) -> [Range<UInt>] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, ["r-xp", "r--p", "rw-p"].contains(fields[1]), fields[5].hasPrefix("/") else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16), low < high else { return nil }
            return low..<high
        }
    }

    /// A /proc file read to its end: `String(contentsOfFile:)` stops at its first page.
    static func procFile(_ path: String) -> String? {
        FileHandle(forReadingAtPath: path).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) }
    }

    static func residentKilobytes() -> Int? {
        guard let status = procFile("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
