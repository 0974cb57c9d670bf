// Sources/CICUData defines no interface: its one object carries ICU's data table for the
// package (icudata.S). SwiftPM's C targets need a public headers directory; this is it.
