"""The second factor's rules: who gives one, which step a code belongs to, no reuse, recovery codes' shape."""
from evalapp.domain import second_factor as rules

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T = 1_800_000_000.0  # a fixed moment: step 60,000,000


def test_admin_district_and_finance_give_a_second_factor_unless_exempted():
    assert {r for r in ("admin", "district", "inspector", "township", "village", "finance")
            if rules.required(r, False)} == {"admin", "district", "finance"}
    assert not rules.required("admin", True)


def test_a_code_matches_its_step_and_the_ones_either_side_only():
    here = rules.current_step(T)
    assert here == 60_000_000
    for offset in (-1, 0, 1):
        assert rules.matching_step(SECRET, rules.code_at(SECRET, here + offset), T) == here + offset
    assert rules.matching_step(SECRET, rules.code_at(SECRET, here + 2), T) is None
    assert rules.matching_step(SECRET, rules.code_at(SECRET, here - 2), T) is None
    assert rules.matching_step(SECRET, "12345", T) is None and rules.matching_step(SECRET, "abcdef", T) is None


def test_a_step_is_fresh_only_after_the_last_one_accepted():
    assert rules.fresh(10, None) and rules.fresh(11, 10)
    assert not rules.fresh(10, 10) and not rules.fresh(9, 10)


def test_the_rfc_6238_code_of_a_known_secret():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its last six.
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert rules.code_at(rfc_secret, rules.current_step(59)) == "287082"


def test_recovery_codes_are_ten_distinct_readable_codes_typed_in_any_form():
    codes = rules.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes)) and all(rules.is_recovery_shape(c) for c in codes)
    assert not any(ch in "".join(codes) for ch in "01ilo")
    shown = rules.display_recovery(codes[0])
    assert shown[5] == "-" and rules.normalise_code(f" {shown.upper()} ") == codes[0]
    key = b"k"
    assert rules.recovery_hash(key, 1, shown.upper()) == rules.recovery_hash(key, 1, codes[0])
    assert rules.recovery_hash(key, 2, codes[0]) != rules.recovery_hash(key, 1, codes[0])  # per user
    assert rules.recovery_hash(b"other", 1, codes[0]) != rules.recovery_hash(key, 1, codes[0])  # keyed


def test_a_derived_secret_is_stable_and_depends_on_key_and_message():
    a = rules.derived_secret(b"key", "totp-enrol:1:n")
    assert a == rules.derived_secret(b"key", "totp-enrol:1:n") and len(a) == 32
    assert a != rules.derived_secret(b"key", "totp-enrol:1:m") != rules.derived_secret(b"yek", "totp-enrol:1:n")
    assert rules.provisioning_uri(a, "chief").startswith("otpauth://totp/")
