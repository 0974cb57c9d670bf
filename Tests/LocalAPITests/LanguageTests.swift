import Central
import Foundation
import HummingbirdTesting
import LocalAPI
import LocalAPIContract
import Store
import FieldWire
import Testing
import Watchlist

/// `Accept-Language` through the API: the same codes, the words of the language asked for.
@Suite("Local API languages")
struct LanguageTests {
    @Test("an answer's warnings and reasons carry stable codes; zh-TW words when asked, English otherwise")
    func answerWords() async throws {
        let world = try LocalAPITests.World()
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/session", method: .post, body: LocalAPITests.json(LocalAPITests.signIn)) { _ in }
            // 8LT-8023 fits no layout and is one misread from the listed BLT-8023.
            var english: CheckAnswer?
            try await client.execute(uri: "/v1/checks/plate", method: .post, body: LocalAPITests.json(#"{"plate":"8LT8023"}"#)) { response async throws in
                english = try LocalAPITests.decode(CheckAnswer.self, response)
            }
            try await client.execute(uri: "/v1/checks/plate", method: .post, headers: [.acceptLanguage: "zh-TW,zh;q=0.9,en;q=0.8"],
                                     body: LocalAPITests.json(#"{"plate":"8LT8023"}"#)) { response async throws in
                let chinese = try LocalAPITests.decode(CheckAnswer.self, response)
                let english = try #require(english)
                #expect(chinese.warningDetails.map(\.code) == english.warningDetails.map(\.code))
                #expect(chinese.warningDetails.map(\.code) == ["plate.layout-if-misread"])
                #expect(english.warnings == english.warningDetails.map(\.message))
                #expect(english.warnings[0].hasPrefix("plate fits no Taiwan layout as entered"))
                #expect(chinese.warnings[0].hasPrefix("所輸入的車牌不符合任何臺灣車牌格式"))
                let (en, zh) = (try #require(english.lists[0].matches.first), try #require(chinese.lists[0].matches.first))
                #expect(en.reasonDetail.code == "plate.confusable" && zh.reasonDetail.code == "plate.confusable")
                #expect(en.reason.contains("position 1: entered 8, listed B"))
                #expect(zh.reason.contains("第 1 碼：輸入 8，列管 B"))
                #expect(zh.reason == zh.reasonDetail.message)
            }
            try await client.execute(uri: "/v1/checks/person", method: .post, headers: [.acceptLanguage: "zh-TW"],
                                     body: LocalAPITests.json(#"{"id":"\#(DemoRecords.wantedID)","purpose":"law-6-1"}"#)) { response async throws in
                let answer = try LocalAPITests.decode(CheckAnswer.self, response)
                let match = try #require(answer.lists.first { $0.list == .wantedPersons }?.matches.first)
                #expect(match.reasonDetail == CodedMessage(code: "id.exact", message: "身分證號與列管資料相符"))
            }
        }
    }

    @Test("an error keeps its code; its message is the catalogue's zh-TW words when asked, the English detail otherwise")
    func errorWords() async throws {
        let world = try LocalAPITests.World()
        defer { world.scratch.remove() }
        try await world.test { client in
            try await client.execute(uri: "/v1/checks/plate", method: .post, headers: [.acceptLanguage: "zh-TW"],
                                     body: LocalAPITests.json(#"{"plate":"BLT-8023"}"#)) { response async throws in
                #expect(response.status == .forbidden)
                let error = try LocalAPITests.error(response)
                #expect(error.code == "session.none" && error.message == "尚無員警登入")
            }
            try await client.execute(uri: "/v1/session", method: .post, body: LocalAPITests.json(LocalAPITests.signIn)) { _ in }
            try await client.execute(uri: "/v1/checks/engine", method: .post, headers: [.acceptLanguage: "zh-TW"],
                                     body: LocalAPITests.json(#"{"engineNumber":"AB"}"#)) { response async throws in
                let error = try LocalAPITests.error(response)
                #expect(error.code == "input.wrong-length" && error.field == "engineNumber")
                #expect(error.message == "輸入的字元數不正確")
            }
            try await client.execute(uri: "/v1/checks/engine", method: .post, headers: [.acceptLanguage: "en-GB"],
                                     body: LocalAPITests.json(#"{"engineNumber":"AB"}"#)) { response async throws in
                let error = try LocalAPITests.error(response)
                #expect(error.code == "input.wrong-length")
                #expect(error.message != "輸入的字元數不正確" && !error.message.isEmpty)
            }
        }
    }

    /// Every error code written in the API's and the daemon's sources, and every code enum the
    /// API maps: a code added without words in both languages fails here.
    @Test("every error code the local API can answer with has words in both languages")
    func everyErrorCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var codes = Set(InputError.Code.allCases.map(\.rawValue) + SessionErrorCode.allCases.map(\.rawValue)
                        + DispatchErrorCode.allCases.map(\.rawValue) + FieldOperationErrorCode.allCases.map(\.rawValue)
                        + StoreErrorCode.allCases.map(\.rawValue)
                        + OrderRefusalCode.allCases.map(\.rawValue) + BulletinRefusalCode.allCases.map(\.rawValue)
                        + HitConfirmationAnswer.State.allCases.map { "confirmation.\($0.rawValue)" }
                        + ["confirmation.pending", "confirmation.overdue", "bulletin.match", "bulletin.confusable", "internal"])
        let pattern = try NSRegularExpression(pattern: #"APIError\([^"\n]*"([a-z]+(\.[a-z-]+)+)""#)
        for directory in ["Sources/LocalAPI", "Sources/Protection"] {
            for file in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(directory).path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent("\(directory)/\(file)"), encoding: .utf8)
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    codes.insert(String(text[Range(match.range(at: 1), in: text)!]))
                }
            }
        }
        #expect(codes.contains("request.unknown-field") && codes.contains("terminal.technician-only"), "the scan finds the literal codes")
        for code in codes.sorted() {
            for language in MessageLanguage.allCases {
                #expect(MessageCatalogue.translation(of: code, in: language)?.isEmpty == false, "\(code) has no \(language.rawValue) words")
            }
        }
    }
}
