import FieldWire
import Foundation
import Watchlist

/// bench-results.json: one flat object of named figures. Each run replaces the keys it
/// measures and keeps the others (later benchmarks add their own keys).
struct Results {
    private(set) var values: [String: Double] = [:]

    /// Records `key` and prints it, beside its reference and their ratio when given.
    mutating func add(_ key: String, _ value: Double, reference: (key: String, value: Double)? = nil, goal: String? = nil) {
        values[key] = (value * 1000).rounded() / 1000
        let ratio = reference.map { value / $0.value }
        var line = "\(key.padding(toLength: 32, withPad: " ", startingAt: 0)) \(format(value))"
        if let reference, let ratio {
            line += "   vs \(reference.key) \(format(reference.value))  ratio \(String(format: "%.2f", ratio))"
        }
        if let goal { line += "   (goal \(goal))" }
        print(line)
    }

    private func format(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.3f", v) }

    func write(to path: String) throws {
        var merged: [String: Double] = [:]
        if let data = FileManager.default.contents(atPath: path),
           let existing = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            for (k, v) in existing { if let d = v as? Double { merged[k] = d } }
        }
        for (k, v) in values { merged[k] = v }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(merged).write(to: URL(fileURLWithPath: path))
    }
}
