/// A data set or list file that does not have the documented shape: the message names the
/// file, the line and the column (docs/dataset-format.md, docs/sync-protocol.md). The store
/// reports it as `store.bad-dataset`, a sync as `bad-format`.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
