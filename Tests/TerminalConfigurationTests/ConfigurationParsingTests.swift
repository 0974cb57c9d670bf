import TerminalConfiguration
import Testing

/// mpoliced.conf parsed into typed slices: defaults, every section, and errors that name the
/// key and the line.
@Suite("mpoliced.conf parsing")
struct ConfigurationParsingTests {
    @Test("only the unit given: every default as docs/configuration.md lists it")
    func defaults() throws {
        let c = try AgentConfiguration.parse("[terminal]\nunit = TPE-DA-01\n")
        #expect(c.terminal.unit == "TPE-DA-01")
        #expect(c.terminal.stateDirectory == "/var/lib/mpolice")
        #expect(c.api.socket == AgentConfiguration.API.defaultSocket)
        #expect(c.api.socketMode == 0o660)
        #expect(c.api.socketGroup == "mpolice-ui")
        #expect(c.api.allowedGroups == ["mpolice-ui"])
        #expect(c.api.maxBodyBytes == 16_384)
        #expect(c.api.maxConnections == 256 && c.api.maxConnectionsPerPeer == 64 && c.api.idleTimeout == 30 && c.api.trimAfter == 30)
        #expect(c.sync.central == nil)
        #expect(c.sync.ca == AgentConfiguration.Sync.defaultCA)
        #expect(c.sync.policy == RetryPolicy(interval: .seconds(900), jitter: 0.1, firstRetry: .seconds(30), maxRetry: .seconds(1800)))
        #expect(c.uplink.central == nil)
        #expect(c.uplink.limits == OutboxLimits(maxItems: 200_000, warnItems: 50_000))
        #expect(c.gps.gpsd == GPSSettings(host: "127.0.0.1", port: "2947", maxFixAge: 10))
        #expect(c.log.level == "info")
        #expect(c.photos.budgetBytes == 256 << 20 && c.photos.region == nil)
        #expect(c.terminal.region == nil)
    }

    @Test("a full file: every section read into its slice; quotes, comments and empty-means-none")
    func full() throws {
        let c = try AgentConfiguration.parse("""
            # a terminal
            [terminal]
            unit = "KHH-ZY-07"
            state_directory = /srv/state   # comment after a value
            region = 高雄

            [api]
            socket = /run/x.sock
            socket_mode = 0600
            socket_group =
            allowed_users = 1000, kiosk
            allowed_groups =
            max_connections = 32
            max_connections_per_peer = 8
            idle_timeout = 5
            trim_after = 0

            [sync]
            central = https://central.example/lists/
            interval = 60
            first_retry = 2
            pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=

            [uplink]
            central = https://central.example/uplink/
            max_items = 5000
            warn_items = 100

            [gps]
            gpsd = [::1]:3000
            max_fix_age = 3

            [log]
            level = debug

            [photos]
            budget_mb = 0
            region = 臺北
            """)
        #expect(c.terminal.unit == "KHH-ZY-07")
        #expect(c.terminal.stateDirectory == "/srv/state")
        #expect(c.api.socketMode == 0o600)
        #expect(c.api.socketGroup == nil)
        #expect(c.api.allowedUsers == ["1000", "kiosk"])
        #expect(c.api.allowedGroups.isEmpty)
        #expect(c.api.maxConnections == 32 && c.api.maxConnectionsPerPeer == 8 && c.api.idleTimeout == 5)
        #expect(c.api.trimAfter == 0)
        #expect(c.sync.central == "https://central.example/lists/")
        #expect(c.sync.policy.interval == .seconds(60) && c.sync.policy.firstRetry == .seconds(2))
        #expect(c.sync.pin?.hasPrefix("sha256//") == true)
        #expect(c.uplink.central == "https://central.example/uplink/")
        #expect(c.uplink.limits == OutboxLimits(maxItems: 5_000, warnItems: 100))
        #expect(c.gps.gpsd == GPSSettings(host: "::1", port: "3000", maxFixAge: 3))
        #expect(c.log.level == "debug")
        #expect(c.photos.budgetBytes == 0 && c.photos.region == "臺北")
        #expect(c.terminal.region == "高雄")
    }

    @Test("gps.max_fix_age is a known key whether or not gpsd is on")
    func fixAgeWithGPSOff() throws {
        let c = try AgentConfiguration.parse("[terminal]\nunit = U\n[gps]\ngpsd = off\nmax_fix_age = 5\n")
        #expect(c.gps.gpsd == nil)
    }

    @Test("errors name the key and the line", arguments: [
        ("[terminal]\nunit = TPE-DA-01\n[api]\nmax_body_bytes = lots\n", "api.max_body_bytes", "<text>:4:"),
        ("[terminal]\nunit = TPE-DA-01\n[sync]\ncentral = http://plain.example/\n", "sync.central", "<text>:4:"),
        ("[terminal]\nunit = TPE-DA-01\n[api]\nsokcet = /tmp/x\n", "api.sokcet", "unknown key"),
        ("[terminal]\nunit = TPE-DA-01\n[api]\ntcp_listen = 127.0.0.1:9\n", "api.tcp_listen", "unknown key"),
        ("[api]\nsocket = /tmp/x.sock\n", "terminal.unit", "required"),
        ("[terminal]\nunit = TPE-DA-01\nunit = TPE-DA-02\n", "terminal.unit", "first on line 2"),
        ("[terminal]\nunit = has space\n", "terminal.unit", "letters, digits"),
        ("[terminal]\nunit = U\nstate_directory = relative/path\n", "terminal.state_directory", "absolute path"),
        ("[terminal]\nunit = U\n[uplink]\nmax_items = 1000\nwarn_items = 2000\n", "uplink.warn_items", "must not exceed"),
        ("[terminal]\nunit = U\n[gps]\ngpsd = host:99999\n", "gps.gpsd", "port 1-65535"),
        ("[terminal]\nunit = U\n[log]\nlevel = loud\n", "log.level", "must be trace"),
        ("[terminal]\nunit = U\n[photos]\nbudget_mb = -1\n", "photos.budget_mb", "from 0 to 65536"),
        ("[terminal]\nunit = U\n[photos]\nregion = 臺北;高雄\n", "photos.region", "without ';'"),
        ("[terminal]\nunit = U\nregion = 臺北&x=1\n", "terminal.region", "without ';', ','"),
        ("unit = U\n", "unit", "outside any [section]"),
        ("[terminal\nunit = U\n", "", "section header"),
        ("[terminal]\nunit = \"U\n", "terminal.unit", "unterminated"),
    ])
    func errors(text: String, key: String, detail: String) {
        #expect {
            try AgentConfiguration.parse(text)
        } throws: { error in
            let message = "\(error)"
            return error is ConfigurationError && (key.isEmpty || message.contains(key)) && message.contains(detail)
        }
    }
}
