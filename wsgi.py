"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI (`flask --app wsgi ...`)."""
import gc

from evalapp import create_app

app = create_app()
# What is built by now (modules, routes, templates, mappers, translations: some 134,000 objects) lives as long as
# the process. Frozen, CPython's cyclic collector no longer walks them on each full pass that a request's own objects
# set off (issue 16: a round's results at 31,500 units set off two full passes a call, each walking the app's
# objects as well as the report's; the bench builds its app the same way, bench/run.py).
gc.freeze()
