import FieldWire
import Foundation
import Watchlist

/// bench-results.json: one flat object of named figures (`Figures.keys`). Each run replaces
/// the keys it measures and keeps the others.
struct Results {
    private(set) var values: [String: Double] = [:]

    /// Records `key` and prints it, beside its reference and their ratio when given, and its
    /// goal from `Figures`.
    mutating func add(_ key: String, _ value: Double, reference: (key: String, value: Double)? = nil) {
        values[key] = (value * 1000).rounded() / 1000
        let ratio = reference.map { value / $0.value }
        var line = "\(key.padding(toLength: 32, withPad: " ", startingAt: 0)) \(format(value))"
        if let reference, let ratio {
            line += "   vs \(reference.key) \(format(reference.value))  ratio \(String(format: "%.2f", ratio))"
        }
        if let goal = Figures.goal(of: key) { line += "   (goal \(goal))" }
        print(line)
    }

    private func format(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.3f", v) }

    /// Adds the ratio keys (`Figures.ratios`) of the figures this run measured.
    mutating func addRatios() {
        for (key, pair) in Figures.ratios.sorted(by: { $0.key < $1.key }) {
            if let value = values[pair.value], let reference = values[pair.reference] { add(key, value / reference) }
        }
    }

    /// Merges this run's figures into the JSON object at `path`; returns the merged object.
    @discardableResult
    func write(to path: String) throws -> [String: Double] {
        var merged: [String: Double] = [:]
        if let data = FileManager.default.contents(atPath: path),
           let existing = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            for (k, v) in existing { if let d = v as? Double { merged[k] = d } }
        }
        for (k, v) in values { merged[k] = v }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(merged).write(to: URL(fileURLWithPath: path))
        return merged
    }

    /// The figures in the JSON object at `path`.
    static func read(_ path: String) throws -> [String: Double] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchError("\(path) is not a JSON object of figures")
        }
        return object.compactMapValues { $0 as? Double }
    }
}
