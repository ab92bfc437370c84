"""A job worker in a process of its own, for tests/test_jobs.py's SIGKILL test: RQ's SimpleWorker (as
`flask jobs-worker` runs it) on the test's database, storage and Redis; the job it takes is held at its first
progress ("running <id>" printed) until the process is killed.

    python -m tests.job_worker_proc <database url> <upload folder> <redis url> <queue name>
"""
import sys
import threading

from rq import SimpleWorker

from evalapp import create_app
from evalapp.services import jobs
from tests.conftest import TEST_CONFIG


def hold(job_id, done, total):
    print(f"running {job_id}", flush=True)
    threading.Event().wait()  # until SIGKILL


def main(url: str, uploads: str, redis_url: str, queue_name: str) -> None:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": uploads, "REDIS_URL": redis_url,
                      "JOBS_QUEUE": queue_name, "JOBS_RUNNER": "rq", "JOBS_TEST_HOOK": hold})
    with app.app_context():
        queue = jobs.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


if __name__ == "__main__":
    main(*sys.argv[1:5])
