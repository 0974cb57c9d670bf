import Watchlist

extension Fix {
    /// A 3D fix at second `t` (by the fix's own time), `metres` north of 25.0 N, 121.5 E.
    public static func sample(_ t: Double, north metres: Double = 0) -> Fix {
        Fix(time: "2026-11-26T08:00:00Z", timeSeconds: t, mode: .threeD, latitude: 25.0 + metres / 111_195, longitude: 121.5)
    }
}
