@testable import Central
import Foundation
import Testing

@Suite("The center reads each item's payload text as sent")
struct RawJSONPayloadsTests {
    @Test("payloads come back byte for byte, whatever their strings, nesting and spacing hold")
    func exact() throws {
        let tricky = #"{"q":"a \"quoted\" } ] , { [ \\","n":[1,{"x":-2.5e3}],"t":true,"z":null}"#
        let body = #"{ "unit" : "U", "items" : [ {"id":"1","payload": "# + tricky + #" , "kind":"check"},"#
            + #"{"payload":{},"id":"2"} , {"id":"3"} ] }"#
        let payloads = try #require(RawJSONPayloads.payloads(Array(body.utf8)))
        #expect(payloads == [tricky, "{}", nil])
        // Foundation agrees the text is the same value.
        let parsed = try JSONSerialization.jsonObject(with: Data(payloads[0]!.utf8)) as? [String: Any]
        #expect(parsed?["q"] as? String == #"a "quoted" } ] , { [ \"#)
    }

    @Test("malformed bodies are refused, never read past their end", arguments: [
        "", "{", #"{"items":"#, #"{"items":[{"payload":{"a":1}"#, #"{"items":[{"payload":"\"#, #"{"items":[1]}"#, "[]", #"{"items":[{},"#,
    ])
    func malformed(_ body: String) {
        #expect(RawJSONPayloads.payloads(Array(body.utf8)) == nil)
    }
}
