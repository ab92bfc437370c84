"""The served process: wsgi.py builds the app, then freezes what it built out of the cyclic collector's passes."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = ("import gc; before = len(gc.get_objects()); import wsgi; "
         "print(gc.get_freeze_count(), before, len(gc.get_objects()))")


def test_the_served_app_is_frozen_out_of_the_collectors_passes(tmp_path):
    env = {**os.environ, "EVALAPP_SECRET_KEY": "x" * 32, "EVALAPP_SEAL_KEYS": '{"w": "%s"}' % ("0" * 64),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    frozen, before, tracked_after = map(int, out)
    # the app's objects (tens of thousands) are in the permanent generation; almost nothing is left to walk
    assert frozen > 50_000 and frozen > 2 * before
    assert tracked_after < frozen / 10
