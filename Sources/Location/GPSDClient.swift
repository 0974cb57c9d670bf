import CGPS
import Foundation
import Watchlist

/// A blocking libgps session with one gpsd: open, stream JSON watch reports, read them,
/// close. One thread uses it at a time (`LocationService`'s reader thread).
final class GPSDClient {
    let host: String
    let port: String
    private let data: UnsafeMutablePointer<gps_data_t>
    private var isOpen = false

    init(host: String, port: String) {
        self.host = host
        self.port = port
        data = .allocate(capacity: 1)
        data.initialize(to: gps_data_t())
    }

    deinit {
        close()
        data.deallocate()
    }

    /// Connects and enables streaming. Throws with libgps's reason.
    func open() throws {
        close()
        let result = gps_open(host, port, data)
        guard result == 0 else {
            throw LocationError(.unreachable, "gpsd at \(host):\(port): \(String(cString: gps_errstr(result)))")
        }
        isOpen = true
        guard gps_stream(data, UInt32(WATCH_ENABLE | WATCH_JSON), nil) == 0 else {
            close()
            throw LocationError(.unreachable, "gpsd at \(host):\(port) refused the watch request")
        }
    }

    func close() {
        guard isOpen else { return }
        _ = gps_close(data)
        isOpen = false
    }

    /// Waits up to `timeout` seconds for input and reads one report; nil when none came.
    /// - Throws: when gpsd closed the connection or sent something libgps cannot read.
    func read(timeout: Double) throws -> LocationTracker.Report? {
        errno = 0
        guard gps_waiting(data, Int32(timeout * 1_000_000)) else {
            // gps_waiting is also false on a socket error; errno (cleared above) says which.
            if errno != 0 && errno != EINTR && errno != EAGAIN && errno != ETIMEDOUT {
                throw LocationError(.lost, "gpsd connection: \(String(cString: strerror(errno)))")
            }
            return nil
        }
        let status = gps_read(data, nil, 0)
        guard status >= 0 else {
            throw LocationError(.lost, "gpsd closed the connection")
        }
        return status == 0 ? nil : report()
    }

    /// Reduces libgps's big struct to what the tracker uses; NaN becomes absent.
    private func report() -> LocationTracker.Report {
        let d = data.pointee
        var result = LocationTracker.Report()
        if d.set & gps_mask_t(DEVICELIST_SET) != 0 {
            result.deviceCount = Int(d.devices.ndevices)
        }
        guard d.set & gps_mask_t(MODE_SET) != 0 else { return result }
        let mode: Fix.Mode
        switch d.fix.mode {
        case MODE_3D: mode = .threeD
        case MODE_2D: mode = .twoD
        default: mode = .noFix
        }
        result.mode = mode
        // A fix is a position with the receiver's time: gpsd's first report after start-up
        // can carry a position but no time, which could be judged neither fresh nor stale.
        guard mode != .noFix, d.set & gps_mask_t(LATLON_SET) != 0, d.set & gps_mask_t(TIME_SET) != 0,
              d.fix.time.tv_sec > 0, d.fix.latitude.isFinite, d.fix.longitude.isFinite else { return result }
        let seconds = Double(d.fix.time.tv_sec) + Double(d.fix.time.tv_nsec) / 1e9
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        result.fix = Fix(
            time: Timestamp.iso8601(milliseconds: Int64((seconds * 1000).rounded())),
            timeSeconds: seconds, mode: mode, latitude: d.fix.latitude, longitude: d.fix.longitude,
            altitudeMSL: mode == .threeD ? finite(d.fix.altMSL) : nil,
            altitudeHAE: mode == .threeD ? finite(d.fix.altHAE) : nil,
            speed: finite(d.fix.speed), track: finite(d.fix.track), horizontalError: finite(d.fix.eph),
            satellitesUsed: d.satellites_used > 0 ? Int(d.satellites_used) : nil)
        return result
    }
}

/// Why the location service could not get a position from gpsd.
public typealias LocationError = CodedError<LocationErrorCode>

public enum LocationErrorCode: String, Sendable {
    case unreachable = "gps.unreachable"
    case lost = "gps.connection-lost"
}
