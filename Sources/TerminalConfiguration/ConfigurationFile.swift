import Foundation

/// A configuration file as written: `[section]` headers and `key = value` lines, `#`
/// comments, values optionally in double quotes. Every value remembers its line, so a bad
/// one is reported where the technician can find it. Parsing into typed settings happens in
/// `AgentConfiguration`, the one place that knows the keys.
struct ConfigurationFile {
    struct Entry {
        var value: String
        var line: Int
    }

    /// "section.key" → entry.
    private(set) var entries: [String: Entry] = [:]
    let path: String

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: nil, line: nil, path: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: nil, line: nil, path: path, message: "not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    init(text: String, path: String) throws {
        self.path = path
        var section: String?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.trimmingCharacters(in: .whitespaces)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if content.hasPrefix("[") {
                guard content.hasSuffix("]"), content.count > 2 else {
                    throw ConfigurationError(key: nil, line: line, path: path, message: "a section header is [name]")
                }
                section = String(content.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let equals = content.firstIndex(of: "=") else {
                throw ConfigurationError(key: nil, line: line, path: path, message: "expected key = value")
            }
            let name = content[..<equals].trimmingCharacters(in: .whitespaces)
            guard let section else {
                throw ConfigurationError(key: name, line: line, path: path, message: "key outside any [section]")
            }
            let key = "\(section).\(name)"
            var value = content[content.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw ConfigurationError(key: key, line: line, path: path, message: "unterminated quoted value")
                }
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.firstIndex(of: "#") {
                value = value[..<hash].trimmingCharacters(in: .whitespaces)
            }
            if entries[key] != nil {
                throw ConfigurationError(key: key, line: line, path: path, message: "set twice (first on line \(entries[key]!.line))")
            }
            entries[key] = Entry(value: value, line: line)
        }
    }
}

/// A configuration the daemon cannot start with; exit code 78 (EX_CONFIG).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var key: String?
    public var line: Int?
    public var path: String
    public var message: String

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let key { return "\(location): \(key): \(message)" }
        return "\(location): \(message)"
    }
}
