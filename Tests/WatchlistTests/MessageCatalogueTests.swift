import Foundation
import Testing
import Watchlist

@Suite("The message catalogue")
struct MessageCatalogueTests {
    @Test("every code has words in every language, with the same placeholders")
    func everyCodeEveryLanguage() {
        #expect(MessageCatalogue.entries.count > 90)
        for (code, words) in MessageCatalogue.entries {
            for language in MessageLanguage.allCases {
                let text = words[language] ?? ""
                #expect(!text.trimmingCharacters(in: .whitespaces).isEmpty, "\(code) has no \(language.rawValue) words")
            }
            let english = MessageCatalogue.placeholders(words[.english] ?? "")
            #expect(MessageCatalogue.placeholders(words[.traditionalChinese] ?? "") == english, "\(code): placeholders differ")
        }
    }

    @Test("every code the answers use is in the catalogue, and every term a {name:term} placeholder can take")
    func answerCodesAndTerms() {
        for list in ListKind.allCases { #expect(MessageCatalogue.entries["list.\(list.rawValue)"] != nil, "\(list)") }
        for format in PlateFormat.allCases { #expect(MessageCatalogue.entries["format.\(format.rawValue)"] != nil, "\(format)") }
        for outcome in [CheckAnswer.Outcome.hit, .possibleHit, .noHit] { #expect(MessageCatalogue.entries["outcome.\(outcome.rawValue)"] != nil) }
        for slot in ["letter", "digit"] { #expect(MessageCatalogue.entries["slot.\(slot)"] != nil) }
        for code in InputError.Code.allCases { #expect(MessageCatalogue.entries[code.rawValue] != nil, "\(code.rawValue)") }
        for code in SessionErrorCode.allCases { #expect(MessageCatalogue.entries[code.rawValue] != nil, "\(code.rawValue)") }
        for code in DispatchErrorCode.allCases { #expect(MessageCatalogue.entries[code.rawValue] != nil, "\(code.rawValue)") }
        for code in FieldOperationErrorCode.allCases { #expect(MessageCatalogue.entries[code.rawValue] != nil, "\(code.rawValue)") }
    }

    @Test("placeholders: as given, terms (lists joined with the language's 'or'), durations")
    func filling() {
        let misread = Notice("plate.layout-if-misread", ["format": "current,motorcycle-letters-first"])
        #expect(MessageCatalogue.text(misread, in: .english)
                == "plate fits no Taiwan layout as entered; with misread characters it would fit current (ABC-1234) or motorcycle (ABC-123)")
        #expect(MessageCatalogue.text(misread, in: .traditionalChinese)
                == "所輸入的車牌不符合任何臺灣車牌格式；若有字元誤讀，則可能是現行格式（ABC-1234）或機車（ABC-123）")
        let stale = Notice("list.stale", ["list": "wanted-persons"])
        #expect(MessageCatalogue.text(stale, in: .traditionalChinese) == "通緝人犯名單已逾有效期限：每筆結果都須向勤務指揮中心確認")
        #expect(MessageCatalogue.duration(seconds: 187_200, in: .english) == "2 d 4 h")
        #expect(MessageCatalogue.duration(seconds: 187_200, in: .traditionalChinese) == "2 天 4 小時")
        #expect(MessageCatalogue.duration(seconds: 45, in: .traditionalChinese) == "45 秒")
        #expect(MessageCatalogue.text(Notice("no.such-code"), in: .traditionalChinese) == "no.such-code")
        #expect(MessageCatalogue.message(Notice("id.exact"), in: .traditionalChinese) == CodedMessage(code: "id.exact", message: "身分證號與列管資料相符"))
    }

    @Test("Accept-Language: the highest-weighted language we speak; Simplified Chinese is not served Traditional", arguments: [
        ("zh-TW", MessageLanguage.traditionalChinese),
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", .traditionalChinese),
        ("en-US,en;q=0.9,zh-TW;q=0.8", .english),
        ("zh-Hant-TW", .traditionalChinese),
        ("zh-HK", .traditionalChinese),
        ("zh", .traditionalChinese),
        ("zh-CN", .english),
        ("zh-Hans", .english),
        ("fr-FR, zh-tw;q=0.5", .traditionalChinese),
        ("zh-TW;q=0", .english),
        ("", .english),
        (";;,=,q=", .english),
        ("*", .english),
    ])
    func acceptLanguage(header: String, expected: MessageLanguage) {
        #expect(MessageLanguage(acceptLanguage: header) == expected, "\(header)")
    }

    @Test("the POSIX locale: LC_ALL, then LC_MESSAGES, then LANG", arguments: [
        (["LANG": "zh_TW.UTF-8"], MessageLanguage.traditionalChinese),
        (["LANG": "zh_TW"], .traditionalChinese),
        (["LANG": "en_US.UTF-8"], .english),
        (["LANG": "C.UTF-8"], .english),
        (["LANG": "zh_TW.UTF-8", "LC_ALL": "C"], .english),
        (["LANG": "C", "LC_MESSAGES": "zh_TW.UTF-8"], .traditionalChinese),
        (["LANG": "zh_TW.UTF-8", "LC_ALL": ""], .traditionalChinese),
        (["LANG": "zh_CN.UTF-8"], .english),
        ([:], .english),
    ])
    func posixLocale(environment: [String: String], expected: MessageLanguage) {
        #expect(MessageLanguage(environment: environment) == expected, "\(environment)")
    }
}
