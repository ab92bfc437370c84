"""One-time set-up codes: how an account created by an administrator (an import) gets its first password without
a password ever being written in a file or chosen by someone else.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), printed in groups of four
(`K7QM-3XWT-9HCP`, about 59 bits), typed back in any case, with or without the hyphens, full-width or not. Only a
keyed hash is stored (HMAC-SHA256 under the app's secret key): a copy of the database does not hold usable codes.
"""
import hashlib
import hmac
import secrets
import unicodedata

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 12
GROUP = 4


def new_code() -> str:
    """A fresh code as printed: three groups of four joined by hyphens."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(typed: str) -> str:
    """A code as typed (case, spaces, hyphens, full-width characters) in its canonical form: 12 letters and digits,
    upper case, no separators; anything else comes back as it is (it matches no code)."""
    text = unicodedata.normalize("NFKC", typed or "").upper()
    return "".join(c for c in text if c not in " -\t")


def code_hash(key: bytes, code: str) -> str:
    """The keyed hash stored for a code (64 hex digits); the same for every way of typing it."""
    return hmac.new(key, b"setup-code:" + normalise(code).encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()
