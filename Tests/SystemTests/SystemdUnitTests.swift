import FieldWire
import Foundation
import TestSupport
import Testing

@Suite("systemd unit")
struct SystemdUnitTests {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd/mpoliced.service")

    @Test("systemd-analyze security --offline scores the unit at most 2.0")
    func securityScore() throws {
        let run = try Programs.system("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", Self.unit.path])
        let line = try #require((run.stdout + run.stderr).split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        print("systemd-analyze security: \(score)")
        #expect(score <= 2.0, "\(line)")
    }

    @Test("the unit is Type=notify with a watchdog, runs as mpolice, and stops inside its timeout")
    func essentials() throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        for line in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78", "User=mpolice", "Group=mpolice",
                     "StateDirectory=mpolice", "RuntimeDirectory=mpolice", "ConfigurationDirectory=mpolice", "TimeoutStopSec=20"] {
            #expect(text.contains(line), "\(line)")
        }
    }
}
