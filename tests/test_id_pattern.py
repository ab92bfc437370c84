"""The URL id converter matches exactly 0..2^31-1: a larger id matches no rule (404 on every method)."""
import random
import re

import pytest

from evalapp.ids import ID_MAX, up_to
from tests.factories import app_on_demo  # noqa: F401  (the demo database)


@pytest.mark.parametrize("n", [0, 7, 10, 99, 100, 2019, 5000, ID_MAX])
def test_up_to_matches_exactly_the_numbers_to_n(n):
    pattern = re.compile(up_to(n) + r"\Z")
    rng = random.Random(n)
    values = {0, 1, n, n + 1, n - 1, 10 * n + 9, 2 * n + 1} | {rng.randrange(0, 4 * n + 20) for _ in range(5000)}
    for v in values:
        if v >= 0:
            assert bool(pattern.match(str(v))) == (v <= n), v
    for text in ("007", "00", "-1", "", "1e3", "²"):
        assert not pattern.match(text), text


@pytest.mark.parametrize("sheet_id", [ID_MAX + 1, 2**63, 62358252150194])
def test_every_method_on_a_path_with_a_too_large_id_is_404(client, sheet_id):
    for method in ("get", "put", "post", "delete"):
        response = getattr(client, method)(f"/api/v1/sheets/{sheet_id}/summary")
        assert response.status_code == 404, (method, response.status_code)
