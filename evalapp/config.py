"""Configuration defaults. Secrets come from instance/config.py or EVALAPP_* environment variables."""
import os


class Defaults:
    # "production" unless told otherwise: a missing SECRET_KEY then refuses to start.
    ENV = "production"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # filled in create_app(): SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # The app reaches PostgreSQL through PgBouncer in transaction mode (EVALAPP_DATABASE_PGBOUNCER=true): each
    # transaction may run on another server connection, so psycopg must not prepare statements (a statement
    # prepared on one connection is missing, or already taken, on the next). Session state is never relied on:
    # locks are pg_advisory_xact_lock, settings SET LOCAL, isolation given with each BEGIN.
    DATABASE_PGBOUNCER = False
    RESULTS_PAGE_SIZE = 50  # units per page of the results page (townships: half as many)
    WORKLIST_PAGE_SIZE = 50  # sheets per page of an inspector's worklist and of the district's review queue
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # Request bodies (bodylimits.py; nginx's client_max_body_size per location in docs/deploy.md says the same):
    # every route takes MAX_CONTENT_LENGTH from a signed-in caller (a form, a JSON score, a signature's strokes: the
    # largest legitimate is ~0.4 MB); before log-in, ANONYMOUS_MAX_CONTENT_LENGTH on any route; the upload routes
    # their file's limit and room for the form around it (a document's form carries the 工作总结 typed on the page).
    MAX_CONTENT_LENGTH = 1024 * 1024
    ANONYMOUS_MAX_CONTENT_LENGTH = 64 * 1024
    UPLOAD_MAX_CONTENT_LENGTH = {
        "document": 21 * 1024 * 1024,  # services.documents: 20 MB
        "photo": 16 * 1024 * 1024,  # services.evidence: 15 MB
        "import": 6 * 1024 * 1024,  # services.imports: 5 MB (units, catalogues)
    }
    # Seals on published versions (services.seals): key id → secret (64 hex digits), from instance/config.py or
    # EVALAPP_SEAL_KEYS='{"2026a": "…"}'; new versions are sealed with SEAL_KEY_ID. Keep every old key: a version
    # names the key it was sealed with. Back them up apart from the database (docs/deploy.md). Production refuses
    # to start without them; development keeps one in the instance folder.
    SEAL_KEYS = {}
    SEAL_KEY_ID = None
    SEAL_RECHECK_SECONDS = 60  # a kept version's rows are read and checked again at the latest after this
    # The audit trail (services.audit_trail): rows are MACed with SEAL_KEY_ID's key; `flask seal-audit` seals rows
    # older than this (a transaction still open longer commits a "late" row, sealed by the next run).
    AUDIT_SEAL_GRACE_SECONDS = 60
    # 文号 (services.doc_numbers): the district's issuing office's 代字, as in 云溪民发〔2026〕3号.
    DOC_NUMBER_OFFICE = "云溪民发"
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    # argon2id; OWASP's first recommended setting is m=19 MiB, t=2, p=1, this is stronger.
    PASSWORD_HASH = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    DEMO_PASSWORD = "demo-pass-2021"
    UPLOAD_FOLDER = None  # filled in create_app(): instance/uploads
    # Where evidence files (photos, documents, 整改/异议/约谈 files) are kept (services.storage): "local", the folder
    # UPLOAD_FOLDER (one app server), or "s3", a bucket of an S3-compatible object store that every app server
    # shares (Ceph RGW, a 政务云 provider's OSS endpoint, AWS S3). The bucket stays private: files are served only
    # through the app's routes after their scope check, never by presigned or public URLs. Moving files between the
    # two: `flask --app wsgi migrate-evidence --to s3` (or --to local), which checks every file's hash.
    STORAGE_BACKEND = "local"
    S3_BUCKET = None  # the bucket's name (made beforehand; the app never creates or reconfigures it)
    S3_PREFIX = "evidence/"  # prepended to every key, so one bucket can hold several districts or environments
    S3_ENDPOINT_URL = None  # e.g. https://oss.example.gov.cn or http://10.0.0.5:7480 (Ceph RGW); None: AWS
    S3_REGION = None  # the store's region name, where it asks for one (e.g. cn-north-1); None: boto3's default
    S3_ACCESS_KEY_ID = None  # credentials: None lets boto3 find them (AWS_ACCESS_KEY_ID, ~/.aws, an instance role)
    S3_SECRET_ACCESS_KEY = None  # a secret: instance/config.py or EVALAPP_S3_SECRET_ACCESS_KEY, never the repository
    S3_ADDRESSING_STYLE = "path"  # "path" (endpoint/bucket/key: what most S3-compatible stores take) or "virtual"
    S3_TIMEOUT = 10  # seconds to connect, and to wait for each read, before a request to the store fails
    # Evidence provenance (services.evidence): a photo's original upload (EXIF, GPS: often the home of a person
    # receiving assistance, personal information under PIPL) is kept privately beside the shown copy so its recorded
    # SHA-256 can be checked (`flask verify-evidence`); only district and admin open it (audited). After this many
    # days from its upload `flask purge-evidence-originals` deletes it (run it daily: docs/deploy.md).
    EVIDENCE_ORIGINAL_RETENTION_DAYS = 365
    # A photo whose camera capture date lies more than this many days outside the round's inspection window (or
    # from the day it was received, without a window) is marked under it.
    EVIDENCE_CAPTURE_MAX_DAYS = 7
    # Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto (0 = not behind one).
    PROXY_FIX = 0
    # Log-in throttling: failed attempts per typed username (known or not: no enumeration), and per client
    # address generous enough for a whole township office behind one NAT address; the log-in form, the API token
    # endpoint and the password-change page's current-password check count together.
    # "database": failures are rows in login_failures, one count for every worker and instance on the database.
    # "redis": Flask-Limiter's counters in RATELIMIT_STORAGE_URI (redis://…), for deployments that have Redis.
    LOGIN_THROTTLE_BACKEND = "database"
    RATELIMIT_STORAGE_URI = "memory://"  # the "redis" backend only; memory:// is refused with it (one process)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "100 per 15 minutes"
    # One-time set-up codes (imported users set their own first password with one): days a code stays valid.
    SETUP_CODE_DAYS = 7
    # Between a right password and the second factor's code (or the enrolment): how long the half log-in lasts.
    TWO_FACTOR_PENDING_SECONDS = 600
    # Compression (Flask-Compress, assets.py): zstd, brotli or gzip, whichever the client takes first. Whole
    # responses only: compressing a stream replaces its iterable, and the file it read from was then closed by the
    # garbage collector, not at the end of the response. Behind a proxy that compresses:
    # EVALAPP_COMPRESS_REGISTER=false (docs/deploy.md).
    COMPRESS_ALGORITHM = ["zstd", "br", "gzip"]
    COMPRESS_STREAMS = False
    # Long work (services.jobs, issue 34 point 2): the workbook, the audit export and the evidence zip are jobs.
    # REDIS_URL (or EVALAPP_REDIS_URL): RQ over Redis, run by `flask --app wsgi jobs-worker`; without it a thread of
    # the app process runs them (the embedded default). JOBS_RUNNER forces rq, thread or sync.
    REDIS_URL = None
    JOBS_RUNNER = None
    JOBS_QUEUE = "evalapp"  # the RQ queue the app servers fill and `jobs-worker` empties
    JOBS_STALE_SECONDS = 120  # a running job whose heartbeat is older is failed (a killed worker), with a retry
    JOBS_QUEUED_SECONDS = 3600  # a queued job nobody took for this long is failed too (a lost queue)
    JOBS_RESULT_SECONDS = 24 * 3600  # a finished file is kept this long, then deleted
    JOBS_TIMEOUT_SECONDS = 3600  # RQ's limit on one job


def database_url_from_env() -> str | None:
    """DATABASE_URL as SQLAlchemy wants it (psycopg 3 driver for postgres URLs)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
