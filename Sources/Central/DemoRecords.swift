import Crypto
import FieldWire
import Watchlist

/// A few fixed records every generated data set starts with, so the demo, the tests and a
/// technician trying the CLI know values that are listed. They are ordinary list entries.
public struct DemoRecords: Sendable {
    /// Stolen: listed exactly. Entering "8LT-8023" finds it as a likely misread (8 in a letter slot).
    public static let stolenPlate = "BLT-8023"
    /// Stolen motorcycle with a VIN and an engine number.
    public static let stolenMotorcyclePlate = "MKZ-5102"
    public static let stolenVIN = "RFBSA1A25MB104471"
    public static let stolenEngineNumber = "G3K6E1234567"
    /// Wanted (caution: armed). "F131680250" is the same ID with a wrong check digit.
    public static let wantedID = withCheckDigit("F13168025")
    public static let wantedName = "林志明"
    public static let wantedDateOfBirth = "1988-03-12"
    /// Missing, vulnerable, no ID on record: found by name and date of birth.
    public static let missingName = "陳淑芬"
    public static let missingDateOfBirth = "1946-07-30"
    /// A resident (new-format ARC) reported missing.
    public static let missingResidentID = withCheckDigit("A80012345")

    /// Registered and valid: a white Toyota Corolla Altis.
    public static let registeredPlate = "RAB-1235"
    /// Registration cancelled (註銷): its own outcome, not a stolen-vehicle hit.
    public static let cancelledPlate = "CAN-3021"
    /// A driving licence suspended until a date, for drink-driving.
    public static let suspendedLicenceID = withCheckDigit("H12345678")
    /// A valid car and motorcycle licence.
    public static let validLicenceID = withCheckDigit("B22345678")

    public init() {}

    /// Registrations fields (`Dataset.columns(.registrations)`): the stolen car registered
    /// as it was stolen (make and colour match), a valid and a cancelled plate.
    public var registrations: [[String]] {
        [
            ["RG00000000", Self.stolenPlate, "valid", "car", "Toyota", "Corolla Altis", "白", "0"],
            ["RG00000001", Self.registeredPlate, "valid", "car", "Toyota", "Corolla Altis", "白", "0"],
            ["RG00000002", Self.cancelledPlate, "cancelled", "car", "Nissan", "Sentra", "銀", "1"],
        ]
    }

    /// Licences fields (`Dataset.columns(.licences)`).
    public var licences: [[String]] {
        [
            ["DL00000000", Self.suspendedLicenceID, "car;motorcycle", "suspended", "2027-06-30", "酒後駕車"],
            ["DL00000001", Self.validLicenceID, "car;motorcycle", "valid", "", ""],
        ]
    }

    public var vehicles: [StolenVehicle] {
        [
            StolenVehicle(recordId: "SV00000000", plate: Self.stolenPlate, vehicleKind: "car", make: "Toyota",
                          model: "Corolla Altis", colour: "白", vin: nil, engineNumber: nil,
                          reportedAt: "2026-11-20T08:15:00Z", caseNumber: "1150001234", reportingUnit: "臺北市政府警察局大安分局"),
            StolenVehicle(recordId: "SV00000001", plate: Self.stolenMotorcyclePlate, vehicleKind: "motorcycle", make: "Kymco",
                          model: "Many 110", colour: "藍", vin: Self.stolenVIN, engineNumber: Self.stolenEngineNumber,
                          reportedAt: "2026-10-02T21:40:00Z", caseNumber: "1150004321", reportingUnit: "新北市政府警察局板橋分局"),
        ]
    }

    public var wanted: [WantedPerson] {
        [WantedPerson(recordId: "WP00000000", idNumber: Self.wantedID, name: Self.wantedName,
                      dateOfBirth: try! CalendarDate(parsing: Self.wantedDateOfBirth), sex: "M",
                      warrantNumber: "115年偵緝字第1024號", offence: "強盜", issuingAuthority: "臺灣臺北地方檢察署",
                      cautionFlags: ["armed", "violent"])]
    }

    public var missing: [MissingPerson] {
        [
            MissingPerson(recordId: "MP00000000", idNumber: nil, name: Self.missingName,
                          dateOfBirth: try! CalendarDate(parsing: Self.missingDateOfBirth), sex: "F",
                          missingSince: "2026-11-24", description: "失智長者，身高約150公分，穿紅色外套",
                          vulnerable: true, contactUnit: "臺北市政府警察局信義分局"),
            MissingPerson(recordId: "MP00000001", idNumber: Self.missingResidentID, name: "NGUYEN VAN AN",
                          dateOfBirth: try! CalendarDate(parsing: "1999-01-05"), sex: "M",
                          missingSince: "2026-11-01", description: "身高約165公分，短髮", vulnerable: false,
                          contactUnit: "桃園市政府警察局中壢分局"),
        ]
    }

    // MARK: The demo roster

    /// Demo officers and their PINs: known to the demo, the tests and technicians, as the
    /// records above are. A real roster's PINs come from `mpolice-central officer`.
    public struct DemoOfficer: Sendable {
        public let officerId: String
        public let pin: String
        /// Base32, as `oathtool -b` and authenticator apps take it; nil for PIN alone.
        public let totpSecret: String?

        public init(officerId: String, pin: String, totpSecret: String?) {
            (self.officerId, self.pin, self.totpSecret) = (officerId, pin, totpSecret)
        }
    }

    /// Active on TPE-DA-01 and TPE-DA-02, PIN alone.
    public static let officer = DemoOfficer(officerId: "OF-0042", pin: "420042", totpSecret: nil)
    /// Active on TPE-DA-01, PIN and TOTP.
    public static let officerWithTOTP = DemoOfficer(officerId: "OF-0007", pin: "700007", totpSecret: "JBSWY3DPEHPK3PXP")
    /// Suspended.
    public static let suspendedOfficer = DemoOfficer(officerId: "OF-0013", pin: "130013", totpSecret: nil)
    /// Active, but only on KHH-ZY-07.
    public static let otherUnitOfficer = DemoOfficer(officerId: "OF-0099", pin: "990099", totpSecret: nil)
    /// Active on TPE-DA-01, PIN alone: a second officer for tests that need two.
    public static let secondOfficer = DemoOfficer(officerId: "OF-0021", pin: "210021", totpSecret: nil)

    /// The roster's verifiers are derived once per process (scrypt at the standard cost, a
    /// salt fixed per officer so the same seed still gives the same data set byte for byte).
    public var officers: [RosterOfficer] { Self.roster }

    private static let roster: [RosterOfficer] = [
        (officer, "陳建宏", ["TPE-DA-01", "TPE-DA-02"], RosterOfficer.Status.active, ""),
        (officerWithTOTP, "林雅婷", ["TPE-DA-01"], .active, ""),
        (suspendedOfficer, "黃國榮", ["TPE-DA-01"], .suspended, "停職調查中"),
        (otherUnitOfficer, "王怡君", ["KHH-ZY-07"], .active, ""),
        (secondOfficer, "張家豪", ["TPE-DA-01"], .active, ""),
    ].enumerated().map { i, entry in
        let (demo, name, units, status, reason) = entry
        let salt = Array(SHA256.hash(data: Array("mpolice demo roster \(demo.officerId)".utf8)).prefix(PINVerifier.saltBytes))
        let (verifier, key) = try! PINVerifier.make(pin: demo.pin, salt: salt)
        let sealed = demo.totpSecret.map { secret in
            try! SealedTOTPSecret.seal(Base32.decode(secret)!, officerId: demo.officerId, key: key,
                                       nonce: Array(SHA256.hash(data: salt).prefix(12)))
        }
        return RosterOfficer(recordId: "OF\(String(i).leftPadded(to: 8))", officerId: demo.officerId, name: name, units: units,
                             status: status, statusReason: reason, pinVerifier: verifier.description, secondFactor: sealed)
    }

    /// Completes a nine-character ID prefix with its check digit.
    public static func withCheckDigit(_ prefix: String) -> String {
        for d in 0...9 where PersonID.isValid(prefix + String(d)) { return prefix + String(d) }
        preconditionFailure("no check digit completes \(prefix)")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
