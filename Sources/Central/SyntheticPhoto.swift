import CTurboJPEG
import Foundation
import Watchlist

/// Synthetic portrait photos for generated data sets: real JPEG files (libjpeg-turbo's
/// TurboJPEG API, the library Debian's image tools use) with the sizes of ID-card scans,
/// distinct per person and the same for the same seed, so that photo sync, budgets and
/// timings are measured on honest bytes. Why TurboJPEG: it is C, already in Debian, encodes
/// a photo in about a millisecond inside the generator's own process, and needs no second
/// language at generation time (ImageMagick or Pillow would be one process per photo or a
/// Python step).
public enum SyntheticPhoto {
    public static let width = 240
    public static let height = 320

    public struct EncodingFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// A head-and-shoulders picture (or, for `fullBody`, a standing figure) drawn from
    /// `seed`: background, clothing, skin and hair tones, face features, and sensor noise
    /// that gives the file the 20–60 kB of a real photo at this size.
    public static func jpeg(seed: UInt64, kind: PhotoReference.Kind = .face) throws -> Data {
        var rng = SeededRandom(seed: seed)
        func tone(_ low: Int, _ high: Int) -> (Int, Int, Int) { (rng.int(low...high), rng.int(low...high), rng.int(low...high)) }
        let background = tone(90, 230)
        let clothing = tone(10, 200)
        let skin = [(233, 196, 166), (214, 170, 130), (190, 145, 110), (160, 115, 85)][rng.int(0..<4)]
        let hair = [(20, 18, 16), (50, 38, 30), (90, 70, 50), (150, 150, 150)][rng.int(0..<4)]
        let noise = rng.int(44...64)
        let (w, h) = (width, height)
        // The figure: head centre and radii; a full-body picture draws it smaller, higher.
        let scale = kind == .fullBody ? 0.45 : 1.0
        let cx = Double(w) / 2 + Double(rng.int(-12...12))
        let cy = (kind == .fullBody ? 70.0 : 130.0) + Double(rng.int(-8...8))
        let rx = (52.0 + Double(rng.int(-6...6))) * scale
        let ry = (68.0 + Double(rng.int(-6...6))) * scale
        let eyeY = cy - ry * 0.1, eyeDX = rx * 0.38, eyeR = max(2, rx * 0.09)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var state = rng.next() | 1
        for y in 0..<h {
            for x in 0..<w {
                let dx = (Double(x) - cx) / rx, dy = (Double(y) - cy) / ry
                var c = background
                if kind == .fullBody, Double(y) > cy + ry, abs(Double(x) - cx) < rx * (Double(y) < cy + ry * 4 ? 1.6 : 0.9) {
                    c = clothing
                } else if kind != .fullBody, Double(y) > cy + ry * 0.8, (Double(x) - cx) * (Double(x) - cx) < Double(y - Int(cy)) * rx * 3.2 {
                    c = clothing
                }
                if dx * dx + dy * dy <= 1 {
                    c = dy < -0.45 ? hair : skin
                    let ex = abs(Double(x) - cx) - eyeDX, ey = Double(y) - eyeY
                    if ex * ex + ey * ey <= eyeR * eyeR { c = (30, 25, 20) }
                    if abs(Double(y) - (cy + ry * 0.45)) < 2, abs(Double(x) - cx) < rx * 0.3 { c = (150, 70, 70) }
                }
                // xorshift noise: cheap, and the part of a photo JPEG cannot squeeze away.
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                let n = Int(state & 0xFF) * noise / 255 - noise / 2
                let i = (y * w + x) * 3
                pixels[i] = UInt8(clamping: c.0 + n)
                pixels[i + 1] = UInt8(clamping: c.1 + n)
                pixels[i + 2] = UInt8(clamping: c.2 + n)
            }
        }
        guard let handle = tjInitCompress() else { throw EncodingFailed(description: "TurboJPEG: cannot start an encoder") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(w), 0, Int32(h), Int32(TJPF_RGB.rawValue), &buffer, &size,
                        Int32(TJSAMP_420.rawValue), 88, 0)
        }
        defer { tjFree(buffer) }
        guard status == 0, let buffer else {
            throw EncodingFailed(description: "TurboJPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Data(bytes: buffer, count: Int(size))
    }
}
