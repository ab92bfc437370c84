"""The second factor at log-in (GB/T 22239-2019 level 3 asks administrators for two factors, one cryptographic):
who is asked for it, which time step a TOTP code belongs to, and the shape of recovery codes. Pure functions.

TOTP (RFC 6238): six digits from HMAC-SHA1 over 30-second steps. A code of the step before or after the current
one is accepted too (a phone's clock a little off, a code typed as it changed), but only for a step later than
the last one accepted: a code cannot be used twice, nor an older one after a newer.
"""
import base64
import hashlib
import hmac
import re
import secrets

import pyotp

from .vocabulary import Role

# The roles whose accounts log in with a second factor (unless the account is exempted: the demo's).
ROLES = frozenset({Role.ADMIN.value, Role.DISTRICT.value, Role.FINANCE.value})
STEP_SECONDS = 30
WINDOW = 1  # steps either side of the current one
DIGITS = 6
RECOVERY_CODES = 10
# Recovery codes: two groups of five from an alphabet without 0/o, 1/l/i (read off paper): 50 bits each.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_SHAPE = re.compile(r"^[%s]{10}$" % _ALPHABET)
_TOTP_SHAPE = re.compile(r"^[0-9]{%d}$" % DIGITS)
ISSUER = "云溪评估"  # short: the QR code stays coarse enough for any phone camera


def required(role: str, exempt: bool) -> bool:
    """Whether an account of this role logs in with a second factor."""
    return role in ROLES and not exempt


def new_secret() -> str:
    """A fresh TOTP secret: 160 random bits in base32 (32 characters), as authenticator apps take it."""
    return pyotp.random_base32()


def derived_secret(key: bytes, message: str) -> str:
    """A TOTP secret derived from a server key and a message: the same for the same pair, 160 bits, base32. Lets
    the enrolment keep only a nonce in the browser's session cookie, never the secret."""
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def current_step(now: float) -> int:
    """The time step of a Unix time."""
    return int(now // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """The code of a step (tests and the enrolment page's checks)."""
    return pyotp.TOTP(secret).generate_otp(step)


def normalise_code(text: str) -> str:
    """What was typed, without spaces, hyphens and case (a recovery code is shown as `abcde-fghjk`)."""
    return re.sub(r"[\s\-]", "", text or "").lower()


def is_totp_shape(code: str) -> bool:
    return bool(_TOTP_SHAPE.match(code))


def is_recovery_shape(code: str) -> bool:
    return bool(_RECOVERY_SHAPE.match(code))


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The step within the window whose code this is (the latest, if two share it), or None. Every step of the
    window is compared in constant time, whether or not an earlier one matched."""
    if not is_totp_shape(code):
        return None
    totp = pyotp.TOTP(secret)
    here = current_step(now)
    found = None
    for step in range(here - WINDOW, here + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def fresh(step: int, last_step: int | None) -> bool:
    """Whether a code of `step` may still be used after `last_step` was (no reuse, no going back)."""
    return last_step is None or step > last_step


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """One-time recovery codes, normalised (`display_recovery` shows them grouped)."""
    return ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(count)]


def display_recovery(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def recovery_hash(key: bytes, user_id: int, code: str) -> str:
    """HMAC-SHA256 of a normalised recovery code under a server key and the user's id: online guessing is held by
    the log-in throttle, and a copy of the table alone (without the key, kept outside the database) gives no way to
    try the 2^49 codes offline."""
    return hmac.new(key, f"{user_id}:{normalise_code(code)}".encode("utf-8"), hashlib.sha256).hexdigest()
