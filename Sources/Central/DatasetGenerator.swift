import Foundation
import FieldWire
import Watchlist

/// Writes realistic synthetic watch lists: Taiwan plate layouts, checksummed national IDs
/// and resident numbers, Chinese names, plausible vehicles, warrants and missing-person
/// reports. The same seed gives the same data set byte for byte.
public struct DatasetGenerator {
    public struct Counts: Sendable, Equatable {
        public var stolenVehicles: Int
        public var wantedPersons: Int
        public var missingPersons: Int
        /// Vehicle registrations and driving licences; with none, the data set leaves their
        /// files out (the center then publishes no such list).
        public var registrations: Int
        public var licences: Int
        public var total: Int { stolenVehicles + wantedPersons + missingPersons + registrations + licences }

        /// Splits `records` 65 % / 25 % / 10 % over the three watch lists (at least one each).
        public init(records: Int, registrations: Int = 0, licences: Int = 0) {
            stolenVehicles = max(1, records * 65 / 100)
            wantedPersons = max(1, records * 25 / 100)
            missingPersons = max(1, records - stolenVehicles - wantedPersons)
            self.registrations = max(0, registrations)
            self.licences = max(0, licences)
        }
    }

    public let counts: Counts
    public let seed: UInt64
    /// Unix seconds the data set is stamped with.
    public let issuedAt: Int64
    public let validFor: Int64
    /// How many persons get a photo (`photos/<sha256>.jpg` in the data set): 70 % of them
    /// wanted, 30 % missing persons, the demo records first.
    public let photos: Int
    /// Gregorian year of `issuedAt`.
    private let issuedYear: Int

    public init(counts: Counts, seed: UInt64, issuedAt: Int64, validFor: Int64 = 7 * 86_400, photos: Int = 0) {
        self.counts = counts
        self.seed = seed
        self.issuedAt = issuedAt
        self.validFor = validFor
        self.photos = max(0, photos)
        issuedYear = Int(Timestamp.iso8601(seconds: issuedAt).prefix(4))!
    }

    /// The data set's photo directory.
    public static func photoDirectory(_ dataset: URL) -> URL { dataset.appendingPathComponent("photos", isDirectory: true) }

    public typealias Progress = (_ written: Int, _ total: Int) -> Void

    /// Writes the data set into `directory` (CSV per list + dataset.json), including the
    /// fixed `DemoRecords` first so demos and tests know some listed values.
    @discardableResult
    public func write(to directory: URL, progress: Progress? = nil) throws -> Dataset.Manifest {
        var writer = try DatasetWriter(directory: directory, documents: Set([counts.registrations > 0 ? ListKind.registrations : nil,
                                                                             counts.licences > 0 ? .licences : nil].compactMap { $0 }))
        var rng = SeededRandom(seed: seed)
        var written = 0
        let total = counts.total
        func tick() {
            written += 1
            if written % 100_000 == 0 { progress?(written, total) }
        }
        let demo = DemoRecords()
        let wantedWithPhotos = min(counts.wantedPersons, photos * 70 / 100 + (photos > 0 ? 1 : 0))
        let missingWithPhotos = min(counts.missingPersons, photos - wantedWithPhotos)
        let photoDirectory = Self.photoDirectory(directory)
        if photos > 0 { try FileManager.default.createDirectory(at: photoDirectory, withIntermediateDirectories: true) }
        /// Each photo's pixels come from the seed and the record id alone: the records'
        /// random sequence is the same with or without photos.
        func photographed(_ recordId: String, _ index: Int, _ count: Int, _ kinds: [PhotoReference.Kind]) throws -> [PhotoReference] {
            guard index < count else { return [] }
            var photoSeeds = SeededRandom(seed: seed ^ UInt64(truncatingIfNeeded: recordId.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
            return try kinds.map { kind in
                let data = try SyntheticPhoto.jpeg(seed: photoSeeds.next(), kind: kind)
                let sha = SHA256Hex.of(data)
                try data.write(to: photoDirectory.appendingPathComponent("\(sha).jpg"))
                return PhotoReference(sha256: sha, bytes: data.count, kind: kind)
            }
        }
        for v in demo.vehicles.prefix(counts.stolenVehicles) { try writer.append(v); tick() }
        for i in demo.vehicles.count..<max(demo.vehicles.count, counts.stolenVehicles) {
            try writer.append(vehicle(i, &rng)); tick()
        }
        for (i, var p) in demo.wanted.prefix(counts.wantedPersons).enumerated() {
            p.photos = try photographed(p.recordId, i, wantedWithPhotos, [.face, .fullBody])
            try writer.append(p); tick()
        }
        for i in demo.wanted.count..<max(demo.wanted.count, counts.wantedPersons) {
            var p = wanted(i, &rng)
            p.photos = try photographed(p.recordId, i, wantedWithPhotos, [.face])
            try writer.append(p); tick()
        }
        for (i, var p) in demo.missing.prefix(counts.missingPersons).enumerated() {
            p.photos = try photographed(p.recordId, i, missingWithPhotos, [.face])
            try writer.append(p); tick()
        }
        for i in demo.missing.count..<max(demo.missing.count, counts.missingPersons) {
            var p = missing(i, &rng)
            p.photos = try photographed(p.recordId, i, missingWithPhotos, [.face])
            try writer.append(p); tick()
        }
        for officer in demo.officers { try writer.append(officer) }
        // Documents draw from a random sequence of their own: the watch lists stay the same
        // with or without them.
        var documentRandom = SeededRandom(seed: seed &+ 0x9E37_79B9)
        for fields in demo.registrations.prefix(counts.registrations) { try writer.append(.registrations, fields); tick() }
        for i in demo.registrations.count..<max(demo.registrations.count, counts.registrations) {
            try writer.append(.registrations, registration(i, &documentRandom)); tick()
        }
        for fields in demo.licences.prefix(counts.licences) { try writer.append(.licences, fields); tick() }
        for i in demo.licences.count..<max(demo.licences.count, counts.licences) {
            try writer.append(.licences, licence(i, &documentRandom)); tick()
        }
        progress?(written, total)
        return try writer.finish(version: 1, issuedAt: issuedAt, expiresAt: issuedAt + validFor, seed: seed)
    }

    // MARK: Records

    static let plateLetters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
    static let allLetters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    func plate(_ rng: inout SeededRandom) -> (String, String) {
        func letters(_ n: Int, _ alphabet: [Character]) -> String { String((0..<n).map { _ in rng.pick(alphabet) }) }
        func digits(_ n: Int, noFour: Bool) -> String {
            String((0..<n).map { _ in
                var d = rng.int(0...9)
                while noFour && d == 4 { d = rng.int(0...9) }
                return Character(String(d))
            })
        }
        let roll = rng.int(0..<100)
        switch roll {
        case 0..<70:
            return (letters(3, Self.plateLetters) + "-" + digits(4, noFour: true), rng.chance(0.75) ? "car" : "motorcycle")
        case 70..<80: return (letters(2, Self.allLetters) + "-" + digits(4, noFour: false), "car")
        case 80..<85: return (digits(4, noFour: false) + "-" + letters(2, Self.allLetters), "car")
        case 85..<95: return (letters(3, Self.allLetters) + "-" + digits(3, noFour: false), "motorcycle")
        default: return (digits(3, noFour: false) + "-" + letters(3, Self.allLetters), "motorcycle")
        }
    }

    static let carModels = [("Toyota", "Corolla Altis"), ("Toyota", "Yaris"), ("Toyota", "RAV4"), ("Honda", "CR-V"),
                            ("Honda", "Fit"), ("Nissan", "Sentra"), ("Mitsubishi", "Outlander"), ("Ford", "Focus"),
                            ("Mazda", "3"), ("Luxgen", "U6"), ("Hyundai", "Tucson"), ("Lexus", "NX")]
    static let motorcycleModels = [("Kymco", "Many 110"), ("SYM", "Jet SL"), ("Yamaha", "Cygnus Gryphus"),
                                   ("Gogoro", "2 Delight"), ("Kymco", "Racing S"), ("SYM", "DRG")]
    static let colours = ["白", "黑", "銀", "灰", "紅", "藍", "深藍", "香檳金", "綠"]
    static let units = ["臺北市政府警察局大安分局", "臺北市政府警察局信義分局", "新北市政府警察局板橋分局",
                        "桃園市政府警察局中壢分局", "臺中市政府警察局第一分局", "臺南市政府警察局第五分局",
                        "高雄市政府警察局苓雅分局", "新竹縣政府警察局竹北分局", "彰化縣警察局員林分局",
                        "花蓮縣警察局花蓮分局"]
    static let vinAlphabet = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
    static let alnum = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")

    func vehicle(_ i: Int, _ rng: inout SeededRandom) -> StolenVehicle {
        let (plate, kind) = plate(&rng)
        let (make, model) = rng.pick(kind == "car" ? Self.carModels : Self.motorcycleModels)
        let vin: String? = rng.chance(0.6) ? String((0..<17).map { _ in rng.pick(Self.vinAlphabet) }) : nil
        let engine: String? = rng.chance(0.7) ? String((0..<rng.int(8...12)).map { _ in rng.pick(Self.alnum) }) : nil
        let reported = issuedAt - Int64(rng.int(3_600...(3 * 365 * 86_400)))
        return StolenVehicle(
            recordId: "SV\(pad(i, 8))", plate: plate, vehicleKind: kind, make: make, model: model,
            colour: rng.pick(Self.colours), vin: vin, engineNumber: engine,
            reportedAt: Timestamp.iso8601(seconds: reported), caseNumber: "\(rocYear(reported))\(pad(rng.int(0..<10_000_000), 7))",
            reportingUnit: rng.pick(Self.units))
    }

    static let surnames = Array("陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董温唐藍蔣石古紀姚連馮歐程湯田康姜白汪鄒尤巫鐘黎涂龔嚴韓袁金童陸夏柳邵").map(String.init)
    static let givenChars = Array("志明俊傑建宏家豪冠宇承翰柏彥淑芬美玲怡君雅婷佳穎惠如文華國榮偉信德欣宜庭育琪子瑜思妤宗霖品睿心瑋嘉祐凱郁筑涵臺峰群").map(String.init)
    static let offences = ["詐欺", "竊盜", "違反毒品危害防制條例", "傷害", "公共危險", "強盜", "殺人未遂", "違反洗錢防制法",
                           "違反槍砲彈藥刀械管制條例", "恐嚇取財", "侵占", "妨害自由"]
    static let authorities = ["臺灣臺北地方檢察署", "臺灣新北地方檢察署", "臺灣桃園地方檢察署", "臺灣臺中地方檢察署",
                              "臺灣臺南地方檢察署", "臺灣高雄地方檢察署", "臺灣士林地方檢察署", "臺灣彰化地方檢察署"]
    static let descriptions = ["身高約170公分，短髮，穿深藍色外套", "身高約155公分，長髮，戴眼鏡，穿白色上衣",
                               "失智長者，身高約160公分，穿灰色毛衣，可能迷路", "國中生，身高約150公分，背黑色書包",
                               "身高約180公分，體型壯碩，左手臂有刺青", "輕度智能障礙，身高約165公分，穿運動服"]

    func name(_ rng: inout SeededRandom) -> String {
        rng.pick(Self.surnames) + (0..<(rng.chance(0.85) ? 2 : 1)).map { _ in rng.pick(Self.givenChars) }.joined()
    }

    func personID(_ rng: inout SeededRandom, sex: String) -> String {
        let region = rng.pick(Array("ABCDEFGHJKLMNPQRSTUVXYWZIO"))
        let roll = rng.int(0..<100)
        let second: Character
        if roll < 90 { second = sex == "F" ? "2" : "1" } else if roll < 98 { second = sex == "F" ? "9" : "8" } else {
            second = rng.pick(Array("ABCD"))
        }
        let body = String(region) + String(second) + String((0..<7).map { _ in Character(String(rng.int(0...9))) })
        return DemoRecords.withCheckDigit(body)
    }

    func dateOfBirth(_ rng: inout SeededRandom, from: Int, to: Int) -> CalendarDate {
        let year = rng.int(from...to), month = rng.int(1...12)
        return CalendarDate(year: year, month: month, day: rng.int(1...CalendarDate.daysIn(month: month, year: year)))!
    }

    func wanted(_ i: Int, _ rng: inout SeededRandom) -> WantedPerson {
        let sex = rng.chance(0.82) ? "M" : "F"
        var flags: [String] = []
        if rng.chance(0.08) { flags.append("armed") }
        if rng.chance(0.10) { flags.append("violent") }
        if rng.chance(0.05) { flags.append("escape-risk") }
        if rng.chance(0.08) { flags.append("drugs") }
        let year = issuedYear - 1911 - rng.int(0...6)
        return WantedPerson(
            recordId: "WP\(pad(i, 8))", idNumber: rng.chance(0.97) ? personID(&rng, sex: sex) : nil,
            name: name(&rng), dateOfBirth: dateOfBirth(&rng, from: 1950, to: 2006), sex: sex,
            warrantNumber: "\(year)年偵緝字第\(rng.int(1...9999))號", offence: rng.pick(Self.offences),
            issuingAuthority: rng.pick(Self.authorities), cautionFlags: flags)
    }

    func missing(_ i: Int, _ rng: inout SeededRandom) -> MissingPerson {
        let sex = rng.chance(0.55) ? "M" : "F"
        let since = issuedAt - Int64(rng.int(86_400...(5 * 365 * 86_400)))
        let dob = dateOfBirth(&rng, from: 1935, to: 2018)
        let age = issuedYear - dob.year
        return MissingPerson(
            recordId: "MP\(pad(i, 8))", idNumber: rng.chance(0.8) ? personID(&rng, sex: sex) : nil,
            name: name(&rng), dateOfBirth: dob, sex: sex, missingSince: String(Timestamp.iso8601(seconds: since).prefix(10)),
            description: rng.pick(Self.descriptions), vulnerable: age < 18 || age > 70 || rng.chance(0.1),
            contactUnit: rng.pick(Self.units))
    }

    // MARK: Documents

    /// The `i`-th registration: a current-layout plate (ABC-1234, no 4) that no other
    /// registration has — `i` walks the 24³ × 9⁴ plates in a scrambled order — with 96 %
    /// valid, 2 % inspection overdue, 1.2 % suspended, 0.8 % cancelled.
    func registration(_ i: Int, _ rng: inout SeededRandom) -> [String] {
        let space = 24 * 24 * 24 * 6_561
        var n = (i &* 48_271 &+ 12_345) % space
        var digits = ""
        for _ in 0..<4 {
            let d = n % 9
            digits = String(d < 4 ? d : d + 1) + digits
            n /= 9
        }
        let letters = String((0..<3).map { _ -> Character in
            defer { n /= 24 }
            return Self.plateLetters[n % 24]
        })
        let kind = rng.chance(0.7) ? "car" : "motorcycle"
        let (make, model) = rng.pick(kind == "car" ? Self.carModels : Self.motorcycleModels)
        let roll = rng.int(0..<1000)
        let status = roll < 960 ? "valid" : roll < 980 ? "inspection-overdue" : roll < 992 ? "suspended" : "cancelled"
        return ["RG\(pad(i, 8))", "\(letters)-\(digits)", status, kind, make, model, rng.pick(Self.colours), rng.chance(0.08) ? "1" : "0"]
    }

    static let licenceReasons = ["酒後駕車", "違規記點逾限", "肇事致人受傷", "拒絕酒測", "無照駕駛累犯"]

    /// The `i`-th licence: a national ID no other licence has (`i` scrambled over the
    /// 26 × 2 × 10⁷ IDs), car and/or motorcycle classes, 95 % valid, 2 % suspended until a
    /// date, 1 % revoked, 2 % expired.
    func licence(_ i: Int, _ rng: inout SeededRandom) -> [String] {
        let space = 26 * 2 * 10_000_000
        var n = (i &* 7_919 &+ 104_729) % space
        let serial = n % 10_000_000
        n /= 10_000_000
        let sex = n % 2 == 0 ? "1" : "2"
        let region = Array("ABCDEFGHJKLMNPQRSTUVXYWZIO")[n / 2]
        let id = DemoRecords.withCheckDigit("\(region)\(sex)\(pad(serial, 7))")
        var classes: [String] = []
        if rng.chance(0.85) { classes.append(rng.chance(0.03) ? "professional-car" : "car") }
        if classes.isEmpty || rng.chance(0.7) { classes.append(rng.chance(0.05) ? "heavy-motorcycle" : "motorcycle") }
        if rng.chance(0.02) { classes.append(rng.pick(["truck", "bus", "trailer"])) }
        let roll = rng.int(0..<100)
        let day = 86_400
        func date(_ offset: Int) -> String { String(Timestamp.iso8601(seconds: issuedAt + Int64(offset)).prefix(10)) }
        let (status, until, reason): (String, String, String) = switch roll {
        case 0..<95: ("valid", "", "")
        case 95..<97: ("suspended", date(rng.int(30...730) * day), rng.pick(Self.licenceReasons))
        case 97..<98: ("revoked", "", rng.pick(Self.licenceReasons))
        default: ("expired", date(-rng.int(1...1_000) * day), "")
        }
        return ["DL\(pad(i, 8))", id, classes.joined(separator: ";"), status, until, reason]
    }

    func rocYear(_ seconds: Int64) -> Int { Int(Timestamp.iso8601(seconds: seconds).prefix(4))! - 1911 }

    func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
