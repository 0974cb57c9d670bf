import TerminalConfiguration
import Testing

@Suite("gps.gpsd addresses")
struct GPSAddressTests {
    @Test("gpsd addresses", arguments: [("127.0.0.1:2947", "127.0.0.1", "2947"), ("gps.local", "gps.local", "2947"),
                                        ("[::1]:3000", "::1", "3000")])
    func address(text: String, host: String, port: String) throws {
        let parsed = try #require(GPSSettings.address(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test("bad gpsd addresses are refused", arguments: ["", ":2947", "host:0", "host:99999", "host:abc", "ho st:1"])
    func badAddress(text: String) {
        #expect(GPSSettings.address(text) == nil)
    }
}
