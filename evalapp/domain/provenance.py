"""A photo's provenance (issue 34, point 5): the capture time and place its camera wrote in EXIF, read before EXIF
is stripped from the shown copy, and whether that time is far from the inspection."""
from datetime import date, datetime
from fractions import Fraction


def exif_datetime(text) -> datetime | None:
    """EXIF's "YYYY:MM:DD HH:MM:SS" (the camera's own clock, no zone) as a naive datetime; None when unreadable
    or blank ("0000:00:00 00:00:00", what some cameras write when their clock was never set)."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def degrees_e6(dms, ref) -> int | None:
    """EXIF's degrees, minutes, seconds (three rationals) and its N/S or E/W reference as microdegrees (south and
    west negative); None when missing or out of range."""
    try:
        d, m, s = (Fraction(float(x)).limit_denominator(10**9) for x in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    value = round((d + m / 60 + s / 3600) * 1_000_000)
    if isinstance(ref, str) and ref.strip().upper()[:1] in ("S", "W"):
        value = -value
    return value


def gps_e6(lat_dms, lat_ref, lon_dms, lon_ref) -> tuple[int | None, int | None]:
    lat, lon = degrees_e6(lat_dms, lat_ref), degrees_e6(lon_dms, lon_ref)
    if lat is None or lon is None or abs(lat) > 90_000_000 or abs(lon) > 180_000_000:
        return None, None
    return lat, lon


def format_e6(value: int) -> str:
    """Microdegrees as decimal degrees with five places (about a metre), no float rounding."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 1_000_000)
    return f"{sign}{whole}.{part:06d}"[:-1]


def capture_far(captured: datetime | None, start: date | None, end: date | None, received: date,
                max_days: int) -> bool:
    """Whether a photo's capture date lies more than `max_days` days outside the inspection: the round's
    inspection window when it has one, else the day the server received the photo. Unknown capture: not far (the
    page says "no capture data" instead)."""
    if captured is None:
        return False
    start, end = start or end or received, end or start or received
    day = captured.date()
    gap = (start - day).days if day < start else (day - end).days if day > end else 0
    return gap > max_days
