@testable import LocalAPIClient
import Testing

/// The client reads the two headers it keeps from libcurl's header lines.
@Suite("API client header lines")
struct APIClientHeaderTests {
    static func value(_ line: String, _ name: StaticString) -> String? {
        Array(line.utf8).withUnsafeBytes { APIClient.headerValue($0, name) }
    }

    @Test("a header's value is read whatever the name's case, spaces and line end trimmed")
    func values() {
        #expect(Self.value("Content-Type: image/jpeg\r\n", "content-type") == "image/jpeg")
        #expect(Self.value("content-type:application/json\r\n", "content-type") == "application/json")
        #expect(Self.value("RETRY-AFTER: \t7 \r\n", "retry-after") == "7")
        #expect(Self.value("Retry-After:\r\n", "retry-after") == "")
    }

    @Test("other lines are not the header: another name, a longer name, no colon, the status line")
    func otherLines() {
        #expect(Self.value("X-Content-Type-Options: nosniff\r\n", "content-type") == nil)
        #expect(Self.value("Content-Typo: x\r\n", "content-type") == nil)
        #expect(Self.value("Content-Type-X: x\r\n", "content-type") == nil)
        #expect(Self.value("Content-Type\r\n", "content-type") == nil)
        #expect(Self.value("Content\rType: x\r\n", "content-type") == nil)
        #expect(Self.value("HTTP/1.1 429 Too Many Requests\r\n", "retry-after") == nil)
        #expect(Self.value("\r\n", "retry-after") == nil)
    }
}
