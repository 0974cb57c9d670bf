import Watchlist

extension PhotoReference {
    /// The published photo directory beside the manifest: immutable files named by content.
    public static let publishedDirectory = "photos"

    /// This photo's path in the published directory: `photos/<sha256>.jpg`.
    public var publishedPath: String { "\(Self.publishedDirectory)/\(sha256).jpg" }
}
