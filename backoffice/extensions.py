"""Flask extensions, created unbound and initialised in create_app()."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# Indexes for searching names and numbers in part (migration 0008): they exist only on PostgreSQL with the
# pg_trgm extension, so no model declares them, and comparing the models with a database leaves them out.
SEARCH_INDEX_SUFFIX = "_trgm"


def declared_in_models(item, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic's include_object: everything but the search indexes."""
    return not (type_ == "index" and name and name.endswith(SEARCH_INDEX_SUFFIX))


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@event.listens_for(Engine, "connect")
def _configure_sqlite(connection, record) -> None:
    """SQLite, the embedded default, enforces foreign keys only when asked, and lets the web
    server and the worker write alongside each other only in WAL mode."""
    if type(connection).__module__.startswith("sqlite3"):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()
