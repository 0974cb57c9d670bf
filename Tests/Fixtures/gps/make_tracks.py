#!/usr/bin/env python3
"""Writes the NMEA fixtures gpsfake replays in the location tests.

drive.nmea: 180 s of a patrol car driving from Taipei 101 at 1 Hz, as GGA + GSA + RMC
each second, with known phases the tests assert:
  t=0..59    3D fix
  t=60..79   2D fix (GSA mode 2, no altitude)
  t=80..109  3D fix
  t=110..139 no fix (GGA quality 0, GSA mode 1, RMC status V)
  t=140..179 3D fix
garbage.nmea: random bytes, truncated sentences and sentences with wrong checksums.
stale.nmea: 40 s of 3D fixes (120 sentences), then 150 GSA sentences and no time-bearing sentence: the
  receiver still claims 3D, but no new fix comes — the tracker must call it stale.
skewed.nmea: the drive's first 60 s from a receiver whose dates are impossible — two years ahead
  (2028-11-26). gpsd itself corrects the common 1024-week rollover of NMEA receivers (a 2007 date
  comes out as 2026), but passes this on; the tracker must flag it time-suspect.

Deterministic: rerunning the script rewrites identical files.
"""
import math
import random
import sys
from pathlib import Path

START_LAT, START_LON = 25.033964, 121.564472   # Taipei 101
DATE = "261126"                                 # 2026-11-26
START_SECONDS = 8 * 3600                        # 08:00:00 UTC
SPEED_MPS = 12.0                                # ~43 km/h


def checksum(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"{c:02X}"


def sentence(body: str) -> str:
    return f"${body}*{checksum(body)}\r\n"


def dm(value: float, lat: bool) -> tuple[str, str]:
    hemi = ("N" if value >= 0 else "S") if lat else ("E" if value >= 0 else "W")
    value = abs(value)
    deg = int(value)
    minutes = (value - deg) * 60
    return (f"{deg:02d}{minutes:07.4f}" if lat else f"{deg:03d}{minutes:07.4f}"), hemi


def phase(t: int) -> str:
    if 60 <= t < 80:
        return "2d"
    if 110 <= t < 140:
        return "none"
    return "3d"


def position(t: int) -> tuple[float, float, float]:
    """Latitude, longitude and track after t seconds: east, then a gentle turn north."""
    track = 90.0 - min(t, 120) * 0.5                 # 90° (east) turning to 30°
    lat, lon = START_LAT, START_LON
    for s in range(t):
        tr = math.radians(90.0 - min(s, 120) * 0.5)
        lat += SPEED_MPS * math.cos(tr) / 111_320.0
        lon += SPEED_MPS * math.sin(tr) / (111_320.0 * math.cos(math.radians(lat)))
    return lat, lon, track


def drive(date: str = DATE) -> str:
    out = []
    for t in range(180):
        secs = START_SECONDS + t
        hhmmss = f"{secs // 3600:02d}{secs // 60 % 60:02d}{secs % 60:02d}.00"
        lat, lon, track = position(t)
        la, ns = dm(lat, True)
        lo, ew = dm(lon, False)
        knots = SPEED_MPS / 0.514444
        p = phase(t)
        # Each second: RMC opens the cycle, GGA and GSA close it (gpsd takes the mode
        # from the GSA that ends the cycle).
        if p == "none":
            out.append(sentence(f"GPRMC,{hhmmss},V,,,,,,,{date},,,N"))
            out.append(sentence(f"GPGGA,{hhmmss},,,,,0,00,99.9,,M,,M,,"))
            out.append(sentence("GPGSA,A,1,,,,,,,,,,,,,99.9,99.9,99.9"))
            continue
        out.append(sentence(f"GPRMC,{hhmmss},A,{la},{ns},{lo},{ew},{knots:.1f},{track:.1f},{date},,,A"))
        if p == "2d":
            out.append(sentence(f"GPGGA,{hhmmss},{la},{ns},{lo},{ew},1,04,2.5,,M,,M,,"))
            out.append(sentence("GPGSA,A,2,04,05,09,12,,,,,,,,,2.7,2.5,0.9"))
        else:
            out.append(sentence(f"GPGGA,{hhmmss},{la},{ns},{lo},{ew},1,08,0.9,12.3,M,17.0,M,,"))
            out.append(sentence("GPGSA,A,3,04,05,09,12,24,25,29,31,,,,,1.8,0.9,1.5"))
    return "".join(out)


def garbage() -> str:
    rng = random.Random(2947)
    out = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            out.append("".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(5, 90))) + "\r\n")
        elif kind == 1:
            good = sentence("GPGGA,080000.00,2502.0378,N,12133.8683,E,1,08,0.9,12.3,M,17.0,M,,")
            out.append(good[: rng.randrange(8, len(good) - 4)] + "\r\n")
        elif kind == 2:
            out.append("$GPRMC,080001.00,A,2502.0378,N,12133.8683,E,23.3,90.0,261126,,,A*00\r\n")
        else:
            out.append("$GPGGA,,,,,,,,,,,,,,*" + "ZZ\r\n")
    return "".join(out)


def stale() -> str:
    full = drive().splitlines(keepends=True)
    return "".join(full[:120]) + sentence("GPGSA,A,3,04,05,09,12,24,25,29,31,,,,,1.8,0.9,1.5") * 150


def skewed() -> str:
    return "".join(drive(date="261128").splitlines(keepends=True)[:180])


def main() -> None:
    here = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    (here / "drive.nmea").write_text(drive(), newline="")
    (here / "garbage.nmea").write_text(garbage(), newline="")
    (here / "stale.nmea").write_text(stale(), newline="")
    (here / "skewed.nmea").write_text(skewed(), newline="")


if __name__ == "__main__":
    main()
