@testable import Central
import FieldWire
import Foundation
import TestSupport
import Testing
import Watchlist

/// The generator's photos and their publication: real JPEG files named by their content,
/// the records naming them, the publisher copying them beside the manifest.
@Suite("Reference center: photos")
struct PhotoPublishingTests {
    static let issuedAt: Int64 = 1_795_700_000

    @Test("generate --photos: real JPEGs of 20–60 kB, distinct, named by their SHA-256, the records name them; the same seed gives the same bytes")
    func generated() throws {
        let scratch = try Scratch("photos")
        defer { scratch.remove() }
        let dataset = scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: 400), seed: 9, issuedAt: Self.issuedAt, photos: 40).write(to: dataset)
        let rows = try Dataset.readRows(.wantedPersons, from: dataset) + Dataset.readRows(.missingPersons, from: dataset)
        let named = rows.flatMap { PhotoReference.parse(field: $0.fields[9] ?? "")! }
        #expect(rows.filter { $0.fields[9] != nil }.count == 40, "40 persons photographed")
        #expect(named.count == 41, "the demo wanted person has a face and a full-body photo")
        #expect(Set(named.map(\.sha256)).count == named.count, "every photo distinct")
        let directory = DatasetGenerator.photoDirectory(dataset)
        for photo in named {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(photo.sha256).jpg"))
            #expect(SHA256Hex.of(data) == photo.sha256)
            #expect(data.count == photo.bytes)
            #expect((20_000...60_000).contains(data.count), "\(data.count) bytes")
            #expect(data.prefix(3) == Data([0xFF, 0xD8, 0xFF]) && data.suffix(2) == Data([0xFF, 0xD9]), "a JPEG stream")
        }
        let demo = try #require(rows.first { $0.recordId == "WP00000000" })
        #expect(PhotoReference.parse(field: demo.fields[9]!)!.map(\.kind) == [.face, .fullBody])

        // The same seed: the same photos; and the records themselves do not depend on photos.
        let again = scratch.url.appendingPathComponent("again")
        try DatasetGenerator(counts: .init(records: 400), seed: 9, issuedAt: Self.issuedAt, photos: 40).write(to: again)
        #expect(try Dataset.readRows(.wantedPersons, from: again) == Dataset.readRows(.wantedPersons, from: dataset))
        let bare = scratch.url.appendingPathComponent("bare")
        try DatasetGenerator(counts: .init(records: 400), seed: 9, issuedAt: Self.issuedAt).write(to: bare)
        #expect(try Dataset.readRows(.wantedPersons, from: bare).map { Array($0.fields.prefix(9)) }
                == Dataset.readRows(.wantedPersons, from: dataset).map { Array($0.fields.prefix(9)) })
        #expect(!FileManager.default.fileExists(atPath: DatasetGenerator.photoDirectory(bare).path))
    }

    @Test("publish copies the photos beside the manifest, before it; a photo whose bytes do not match its name is refused")
    func published() throws {
        let scratch = try Scratch("photos")
        defer { scratch.remove() }
        let keys = scratch.url.appendingPathComponent("keys")
        try CentralKeys.initialise(in: keys, now: Self.issuedAt, validFor: 365 * 86_400)
        let dataset = scratch.url.appendingPathComponent("dataset")
        try DatasetGenerator(counts: .init(records: 200), seed: 3, issuedAt: Self.issuedAt, photos: 10).write(to: dataset)
        let out = scratch.url.appendingPathComponent("pub")
        let publisher = Publisher(directory: out, keysDirectory: keys)
        try publisher.publish(dataset: dataset, now: Self.issuedAt, validFor: 86_400, keepDeltas: 3)
        let source = try FileManager.default.contentsOfDirectory(atPath: DatasetGenerator.photoDirectory(dataset).path).sorted()
        let published = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("photos").path).sorted()
        #expect(published == source && source.count == 11)

        // A tampered photo in the data set: the next publication refuses it and writes no manifest.
        let manifest = try Data(contentsOf: out.appendingPathComponent(Publisher.manifestFile))
        let forged = DatasetGenerator.photoDirectory(dataset).appendingPathComponent(String(repeating: "0", count: 64) + ".jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: forged)
        #expect(throws: CentralError.self) {
            try publisher.publish(dataset: dataset, now: Self.issuedAt + 60, validFor: 86_400, keepDeltas: 3)
        }
        #expect(try Data(contentsOf: out.appendingPathComponent(Publisher.manifestFile)) == manifest, "the published manifest is untouched")
    }
}
