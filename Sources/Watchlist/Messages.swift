/// What the terminal says to people, in the languages it speaks: answer warnings and match
/// reasons, the local API's error messages, the CLI's answer text. One catalogue
/// (`MessageCatalogue`), keyed by stable codes; every code has every language (tested).

/// A language the terminal speaks. Traditional Chinese for Taiwan's officers; English is the
/// fallback for anything else.
public enum MessageLanguage: String, Sendable, CaseIterable, Codable {
    case english = "en"
    case traditionalChinese = "zh-TW"

    /// From an `Accept-Language` header (RFC 9110 §12.5.4): the supported language with the
    /// highest weight; English when none is, or the header is absent or malformed. `zh`,
    /// `zh-TW`, `zh-HK`, `zh-MO` and `zh-Hant…` mean Traditional Chinese; `zh-CN`, `zh-SG` and
    /// `zh-Hans…` do not (a reader of Simplified Chinese is not served Traditional unasked).
    public init(acceptLanguage header: String?) {
        var best: (language: MessageLanguage, weight: Double)?
        for range in (header ?? "").split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces }
            guard let tag = parts.first, !tag.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            guard weight > 0, let language = Self.matching(tag: String(tag)) else { continue }
            if best == nil || weight > best!.weight { best = (language, weight) }
        }
        self = best?.language ?? .english
    }

    /// From the POSIX locale variables, as `mpolicectl` reads them: `LC_ALL`, then
    /// `LC_MESSAGES`, then `LANG` (the first one set and not empty); `zh_TW.UTF-8` and the
    /// other Traditional Chinese locales mean Traditional Chinese, anything else English.
    public init(environment: [String: String]) {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        let tag = locale.split(separator: ".").first.map { $0.replacingUnderscores } ?? ""
        self = Self.matching(tag: tag) ?? .english
    }

    /// The language a tag (`zh-TW`, `en-GB`, `*`) asks for, or nil when it is none of ours.
    static func matching(tag: String) -> MessageLanguage? {
        let subtags = tag.lowercased().split(separator: "-")
        switch subtags.first {
        case "en": return .english
        case "zh":
            let rest = Set(subtags.dropFirst())
            if !rest.isDisjoint(with: ["cn", "sg", "hans"]) { return nil }
            return .traditionalChinese
        default: return nil
        }
    }
}

/// A message before it is put into words: its code and the values its text needs.
public struct Notice: Sendable, Equatable {
    public var code: String
    public var arguments: [String: String]

    public init(_ code: String, _ arguments: [String: String] = [:]) {
        (self.code, self.arguments) = (code, arguments)
    }
}

/// A message as answers carry it: a stable code for programs, words for people.
public struct CodedMessage: Sendable, Equatable, Codable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        (self.code, self.message) = (code, message)
    }
}

public enum MessageCatalogue {
    /// Puts `notice` into words. A template's `{name}` is the argument as given;
    /// `{name:term}` looks the argument up as the term `name.value` (a comma-separated value
    /// is a list, joined with the language's "or"); `{name:duration}` reads it as seconds.
    /// An unknown code says itself (never an empty message).
    public static func text(_ notice: Notice, in language: MessageLanguage) -> String {
        guard let templates = compiled[notice.code], let template = templates[language] ?? templates[.english] else { return notice.code }
        return template.fill(notice.arguments, language)
    }

    public static func message(_ notice: Notice, in language: MessageLanguage) -> CodedMessage {
        CodedMessage(code: notice.code, message: text(notice, in: language))
    }

    /// The catalogue's words for `code` alone (an error's generic message), nil when the
    /// catalogue has no such code.
    public static func translation(of code: String, in language: MessageLanguage) -> String? {
        entries[code]?[language]
    }

    /// "3 d 4 h", "5 h 12 min", "40 s" — in the language's units.
    public static func duration(seconds: Int64, in language: MessageLanguage) -> String {
        func unit(_ name: String) -> String { entries["unit.\(name)"]?[language] ?? name }
        let s = max(0, seconds)
        switch s {
        case 86_400...: return "\(s / 86_400) \(unit("d")) \(s % 86_400 / 3_600) \(unit("h"))"
        case 3_600...: return "\(s / 3_600) \(unit("h")) \(s % 3_600 / 60) \(unit("min"))"
        case 60...: return "\(s / 60) \(unit("min"))"
        default: return "\(s) \(unit("s"))"
        }
    }

    /// The `{name}`, `{name:term}` and `{name:duration}` placeholders of `template`.
    public static func placeholders(_ template: String) -> Set<String> {
        var names: Set<String> = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// A template cut into its text and placeholders once: answers are worded on the check
    /// path, and scanning each template character by character cost more than the lookup.
    struct Template: Sendable {
        enum Segment: Sendable {
            case text(String)
            case value(String)
            case term(String)
            case duration(String)
        }

        let segments: [Segment]

        init(_ template: String) {
            var segments: [Segment] = []
            var rest = template[...]
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                if open > rest.startIndex { segments.append(.text(String(rest[..<open]))) }
                let placeholder = rest[rest.index(after: open)..<close].split(separator: ":", maxSplits: 1)
                let name = String(placeholder[0])
                switch placeholder.count == 2 ? placeholder[1] : "" {
                case "term": segments.append(.term(name))
                case "duration": segments.append(.duration(name))
                default: segments.append(.value(name))
                }
                rest = rest[rest.index(after: close)...]
            }
            if !rest.isEmpty { segments.append(.text(String(rest))) }
            self.segments = segments
        }

        func fill(_ arguments: [String: String], _ language: MessageLanguage) -> String {
            var text = ""
            text.reserveCapacity(96)
            for segment in segments {
                switch segment {
                case .text(let words): text += words
                case .value(let name): text += arguments[name] ?? ""
                case .term(let name):
                    let value = arguments[name] ?? ""
                    guard value.contains(",") else {
                        text += entries["\(name).\(value)"]?[language] ?? value
                        continue
                    }
                    let terms = value.split(separator: ",").map { entries["\(name).\($0)"]?[language] ?? String($0) }
                    text += terms.joined(separator: entries["word.or"]?[language] ?? " or ")
                case .duration(let name):
                    text += duration(seconds: Int64(arguments[name] ?? "") ?? 0, in: language)
                }
            }
            return text
        }
    }

    private static let compiled: [String: [MessageLanguage: Template]] = entries.mapValues { $0.mapValues(Template.init) }

    /// Code → language → template. Codes are stable (docs/checks.md, docs/api/openapi.yaml);
    /// words may be improved at any time.
    public static let entries: [String: [MessageLanguage: String]] = {
        var all: [String: [MessageLanguage: String]] = [:]
        for (code, en, zh) in answerEntries + termEntries + errorEntries + cliEntries {
            precondition(all[code] == nil, "duplicate message code \(code)")
            all[code] = [.english: en, .traditionalChinese: zh]
        }
        return all
    }()

    /// Warnings and match reasons in check answers.
    static let answerEntries: [(String, String, String)] = [
        ("plate.no-layout", "plate fits no Taiwan layout: foreign, temporary or misread plate",
         "車牌不符合任何臺灣車牌格式：可能是外國、臨時或誤讀的車牌"),
        ("plate.layout-if-misread", "plate fits no Taiwan layout as entered; with misread characters it would fit {format:term}",
         "所輸入的車牌不符合任何臺灣車牌格式；若有字元誤讀，則可能是{format:term}"),
        ("plate.exact", "plate matches a listed stolen vehicle", "車牌與列管失竊車輛相符"),
        ("plate.confusable", "OCR-confusable characters differ — {differences}", "僅 OCR 易混淆字元不同：{differences}"),
        ("plate.difference", "position {position}: entered {entered}, listed {listed}",
         "第 {position} 碼：輸入 {entered}，列管 {listed}"),
        ("plate.difference-in-slot", "position {position}: entered {entered}, listed {listed} ({slot:term} position)",
         "第 {position} 碼：輸入 {entered}，列管 {listed}（{slot:term}位置）"),
        ("plate.difference-impossible",
         "position {position}: entered {entered}, listed {listed} ({slot:term} position, {entered} cannot stand there)",
         "第 {position} 碼：輸入 {entered}，列管 {listed}（{slot:term}位置，不可能是 {entered}）"),
        ("vin.exact", "VIN matches a listed stolen vehicle", "車身號碼與列管失竊車輛相符"),
        ("engine-number.exact", "engine number matches a listed stolen vehicle", "引擎號碼與列管失竊車輛相符"),
        ("id.exact", "ID matches a listed record", "身分證號與列管資料相符"),
        ("bulletin.match", "matches an urgent bulletin from the center: {summary}", "與勤務指揮中心緊急通報相符：{summary}"),
        ("bulletin.confusable", "may match an urgent bulletin (confusable characters): {summary}", "可能與緊急通報相符（易混淆字元）：{summary}"),
        ("id.neighbour", "listed ID {change}", "列管號碼{change}"),
        ("id.change.substitution", "differs from the entered ID at position {position}", "與輸入號碼第 {position} 碼不同"),
        ("id.change.transposition", "is the entered ID with positions {position} and {next} swapped",
         "為輸入號碼第 {position}、{next} 碼對調"),
        ("id.listed-neighbour",
         "the entered ID is valid but not listed; listed ID {id} ({list:term}, record {record}) is one keystroke away: it {change} — check the entry",
         "輸入的身分證號有效但未列管；列管號碼 {id}（{list:term}，紀錄 {record}）僅差一鍵：{change}——請核對輸入"),
        ("id.bad-checksum",
         "ID check digit is wrong: likely mistyped; listed IDs one keystroke away are shown as possible hits",
         "身分證號檢查碼錯誤，可能輸入有誤；僅差一鍵的列管號碼列為可能命中"),
        ("id.bad-shape",
         "not the shape of a national ID or resident number (letter, then 1/2, 8/9 or A–D, then 8 digits); listed IDs one keystroke away are shown as possible hits",
         "不符合身分證或居留證號格式（英文字母，接 1/2、8/9 或 A–D，再接 8 位數字）；僅差一鍵的列管號碼列為可能命中"),
        ("name-dob", "name and date of birth match; no ID to confirm identity", "姓名與出生日期相符；無身分證號可確認身分"),
        ("list.never-received", "{list:term} list never received: a no-hit means nothing",
         "從未收到{list:term}名單：「無資料」不代表任何事"),
        ("list.stale", "{list:term} list is stale (past its expiry): confirm every answer with the center",
         "{list:term}名單已逾有效期限：每筆結果都須向勤務指揮中心確認"),
        ("document.valid", "{list:term}: valid as of list version {version}", "{list:term}：依名單第 {version} 版為有效"),
        ("document.invalid", "{list:term}: {status:term} as of list version {version}", "{list:term}：依名單第 {version} 版為{status:term}"),
        ("document.invalid-details", "{list:term}: {status:term} ({details}) as of list version {version}",
         "{list:term}：依名單第 {version} 版為{status:term}（{details}）"),
        ("document.not-listed", "{list:term}: none listed as of version {version} of the full list — not issued or not on record",
         "{list:term}：完整名單第 {version} 版查無資料——未核發或查無紀錄"),
        ("document.no-invalidity", "{list:term}: no invalidity listed as of version {version} (this terminal holds the invalid ones only)",
         "{list:term}：依第 {version} 版查無異常紀錄（本機僅存異常名單）"),
        ("document.never-received", "{list:term} list never received: the terminal cannot tell",
         "從未收到{list:term}名單：本機無法判定"),
        ("terminal.offline-warning",
         "no verified list update for {offline:duration}: checks will be refused in {remaining:duration} unless the terminal reaches the center",
         "已 {offline:duration} 未收到經驗證的名單更新：若未能連線勤務指揮中心，{remaining:duration}後將拒絕查詢"),
        ("terminal.offline-refusing",
         "no verified list update for {offline:duration}: checks are refused (security.max_offline {max:duration})",
         "已 {offline:duration} 未收到經驗證的名單更新：查詢已停止（security.max_offline {max:duration}）"),
    ]

    /// Words that messages put in their places: `{list:term}`, `{format:term}`, `{slot:term}`.
    static let termEntries: [(String, String, String)] = [
        ("list.stolen-vehicles", "stolen vehicles", "失竊車輛"),
        ("list.wanted-persons", "wanted persons", "通緝人犯"),
        ("list.missing-persons", "missing persons", "失蹤人口"),
        ("list.officers", "officer roster", "員警名冊"),
        ("list.registrations", "vehicle registration", "車籍"),
        ("list.licences", "driving licence", "駕籍"),
        ("status.valid", "valid", "有效"),
        ("status.suspended", "suspended", "吊扣"),
        ("status.revoked", "revoked", "吊銷"),
        ("status.expired", "expired", "逾期"),
        ("status.cancelled", "cancelled", "註銷"),
        ("status.inspection-overdue", "inspection overdue", "逾期未檢驗"),
        ("format.current", "current (ABC-1234)", "現行格式（ABC-1234）"),
        ("format.legacy-letters-first", "older car (AB-1234)", "舊式汽車（AB-1234）"),
        ("format.legacy-digits-first", "older car (1234-AB)", "舊式汽車（1234-AB）"),
        ("format.motorcycle-letters-first", "motorcycle (ABC-123)", "機車（ABC-123）"),
        ("format.motorcycle-digits-first", "motorcycle (123-ABC)", "機車（123-ABC）"),
        ("slot.letter", "letter", "英文字母"),
        ("slot.digit", "digit", "數字"),
        ("word.or", " or ", "或"),
        ("word.list-separator", "; ", "；"),
        ("unit.d", "d", "天"),
        ("unit.h", "h", "小時"),
        ("unit.min", "min", "分"),
        ("unit.s", "s", "秒"),
    ]

    /// The local API's error codes (docs/api/openapi.yaml): the generic words, said in place
    /// of the English detail when another language is asked for.
    static let errorEntries: [(String, String, String)] = [
        ("input.empty", "nothing entered", "未輸入內容"),
        ("input.too-long", "the entry is too long", "輸入內容過長"),
        ("input.control-character", "the entry holds a control character", "輸入內容含控制字元"),
        ("input.invalid-character", "the entry holds a character that is not allowed", "輸入內容含不允許的字元"),
        ("input.wrong-length", "the entry has the wrong number of characters", "輸入的字元數不正確"),
        ("input.wrong-shape", "the entry is not in the expected form", "輸入格式不正確"),
        ("input.invalid-date", "not a date (YYYY-MM-DD, or a Minguo date such as 民國75年3月2日)", "日期無效（YYYY-MM-DD，或民國日期，如民國75年3月2日）"),
        ("input.pin", "the PIN is not in the expected form", "PIN 碼格式不正確"),
        ("purpose.required", "a person check needs its purpose", "查詢人員須註明查詢事由"),
        ("purpose.unknown", "not a purpose this terminal knows", "本機不認得此查詢事由"),
        ("purpose.reference", "this purpose needs a dispatch or case reference", "此查詢事由須附派遣或案件編號"),
        ("store.not-found", "the lists are not on this terminal", "本機沒有名單資料"),
        ("store.unreadable", "the lists cannot be read", "名單資料無法讀取"),
        ("store.bad-dataset", "a data set was refused", "資料集遭拒"),
        ("store.base-mismatch", "the update does not follow the lists held", "更新與本機名單版本不符"),
        ("store.digest-mismatch", "the lists do not match their signed digest", "名單與簽章摘要不符"),
        ("store.busy", "the lists are being updated; try again", "名單更新中，請稍後再試"),
        ("store.database", "the terminal's database failed", "本機資料庫發生錯誤"),
        ("lists.unavailable", "the lists are not available", "名單目前無法使用"),
        ("lists.expired", "no verified list update for too long: checks are refused", "過久未收到經驗證的名單更新：查詢已停止"),
        ("terminal.locked", "the terminal is locked by an order from the center", "本機已依勤務指揮中心指令鎖定"),
        ("terminal.technician-only", "only a technician can do this", "僅限技術人員操作"),
        ("storage.full", "the disk is full: nothing more can be recorded", "儲存空間已滿：無法再記錄"),
        ("session.none", "no officer is signed in", "尚無員警登入"),
        ("session.bad-credentials", "wrong officer number or PIN", "員警編號或 PIN 碼錯誤"),
        ("session.otp-required", "a one-time code is required", "須輸入一次性驗證碼"),
        ("session.bad-otp", "wrong one-time code", "一次性驗證碼錯誤"),
        ("session.locked-out", "too many failed attempts: wait before trying again", "失敗次數過多，請稍後再試"),
        ("session.suspended", "this officer is suspended", "此員警已停權"),
        ("session.wrong-unit", "this officer may not sign in on this unit", "此員警不得於本機登入"),
        ("session.no-roster", "the officer roster is not on this terminal", "本機沒有員警名冊"),
        ("session.locked", "the screen is locked: enter the PIN", "螢幕已鎖定，請輸入 PIN 碼"),
        ("session.in-use", "another officer is signed in", "另一位員警已登入"),
        ("session.pin-required", "the PIN is required", "須輸入 PIN 碼"),
        ("dispatch.unknown", "no such dispatch", "查無此派遣"),
        ("dispatch.invalid-transition", "the dispatch cannot move to that status", "派遣無法變更為該狀態"),
        ("dispatch.disposition", "the disposition is not valid", "處置結果無效"),
        ("dispatch.cancelled", "the center cancelled this dispatch", "勤務指揮中心已取消此派遣"),
        ("dispatch.reassigned", "the center gave this dispatch to another unit", "勤務指揮中心已將此派遣改派其他單位"),
        ("emergency.none", "no emergency is active", "目前沒有緊急求援"),
        ("incident.already-open", "a stop is already open: close it first", "已有進行中的攔查，請先結束"),
        ("incident.unknown", "no such stop", "查無此攔查"),
        ("incident.closed", "the stop is closed already", "此攔查已結束"),
        ("check.unknown", "no such check on this terminal", "本機查無此查詢紀錄"),
        ("check.not-a-hit", "an outcome is recorded only for a hit", "僅命中的查詢可記錄處理結果"),
        ("check.outcome-recorded", "this check's outcome is recorded already", "此查詢的處理結果已記錄"),
        ("bulletin.bad-format", "the bulletin is malformed", "緊急通報格式錯誤"),
        ("bulletin.bad-signature", "the bulletin's signature does not verify", "緊急通報簽章驗證失敗"),
        ("bulletin.wrong-role", "the bulletin is signed by a key not allowed to issue bulletins", "緊急通報簽章金鑰無發布權限"),
        ("bulletin.expired", "the bulletin has expired", "緊急通報已逾期"),
        ("bulletin.replayed", "the bulletin was received before", "此緊急通報已接收過"),
        ("bulletin.other-region", "the bulletin is for another region", "此緊急通報屬於其他轄區"),
        ("confirmation.still-active", "the center confirms: still active — act on it", "勤務指揮中心確認：仍有效，可據以執行"),
        ("confirmation.no-longer-active", "the center says: no longer active — do not act on the cached hit", "勤務指揮中心回覆：已失效，勿依本機命中執行"),
        ("confirmation.not-found", "the center has no such record — do not act on the cached hit", "勤務指揮中心查無此筆資料，勿依本機命中執行"),
        ("confirmation.pending", "confirmation asked; waiting for the center", "已請求確認，等待勤務指揮中心回覆"),
        ("confirmation.overdue", "no answer from the center within the deadline: confirm by radio", "勤務指揮中心未於期限內回覆，請以無線電確認"),
        ("order.bad-format", "the order is malformed", "指令格式錯誤"),
        ("order.bad-signature", "the order's signature does not verify", "指令簽章驗證失敗"),
        ("order.wrong-role", "the order is signed by a key not allowed to give orders", "指令簽章金鑰無下達指令權限"),
        ("order.no-role", "the trusted root names no order key", "受信任根憑證未指定指令金鑰"),
        ("order.other-unit", "the order is for another unit", "此指令屬於其他裝置"),
        ("order.other-certificate", "the order is for another device certificate", "此指令屬於其他裝置憑證"),
        ("order.replayed", "the order was already carried out", "此指令已執行過"),
        ("order.expired", "the order has expired", "此指令已逾期"),
        ("order.unverifiable", "the order cannot be verified now", "目前無法驗證此指令"),
        ("order.not-configured", "this terminal does not take orders", "本機未設定接收指令"),
        ("order.refused", "the order was refused", "指令遭拒"),
        ("sync.not-configured", "sync is not configured", "未設定同步"),
        ("uplink.not-configured", "the uplink to the center is not configured", "未設定上傳至指揮中心"),
        ("sync.backoff", "sync is waiting before its next attempt", "同步等待下次重試中"),
        ("gps.not-configured", "GPS is not configured", "未設定 GPS"),
        ("photo.not-on-device", "the photo is not on this terminal (yet)", "本機尚無此照片"),
        ("photo.not-configured", "photos are not configured", "未設定照片"),
        ("request.aborted", "the request body ended early", "請求內容提前結束"),
        ("request.bad-json", "the body is not a valid JSON object", "請求內容不是有效的 JSON 物件"),
        ("request.bad-value", "a field has a value that is not allowed", "欄位值不允許"),
        ("request.bad-combination", "these fields cannot be given together", "這些欄位不可同時提供"),
        ("request.missing-field", "a required field is missing", "缺少必要欄位"),
        ("request.unknown-field", "the body has a field this path does not take", "請求含未定義的欄位"),
        ("request.wrong-type", "a field has the wrong type", "欄位型別錯誤"),
        ("request.too-large", "the request body is too large", "請求內容過大"),
        ("request.not-found", "no such path", "查無此路徑"),
        ("request.method-not-allowed", "method not allowed on this path", "此路徑不允許該方法"),
        ("internal", "internal error; see the daemon log", "內部錯誤，請查看服務紀錄"),
    ]

    /// `mpolicectl`'s answer text.
    static let cliEntries: [(String, String, String)] = [
        ("answer.hit", "HIT — confirm with the center before acting", "命中——行動前須向勤務指揮中心確認"),
        ("answer.possible-hit", "POSSIBLE HIT — confirm with the center before acting", "可能命中——行動前須向勤務指揮中心確認"),
        ("answer.no-hit", "no hit", "無資料"),
        ("answer.document-invalid", "DOCUMENT INVALID — no watch-list hit", "證照異常——未命中列管名單"),
        ("answer.list-line", "{list:term}: {outcome:term}  [v{version}{age}, {count} records{stale}]",
         "{list:term}：{outcome:term}  [第 {version} 版{age}，{count} 筆{stale}]"),
        ("answer.age", " age {age:duration}", "，{age:duration}前"),
        ("answer.stale", ", STALE", "，已逾期限"),
        ("answer.recorded", "check {check} recorded {at}", "查詢 {check} 已記錄於 {at}"),
        ("outcome.hit", "hit", "命中"),
        ("outcome.possible-hit", "possible hit", "可能命中"),
        ("outcome.no-hit", "no hit", "無資料"),
        ("outcome.document-invalid", "document invalid", "證照異常"),
    ]
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }

    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}
