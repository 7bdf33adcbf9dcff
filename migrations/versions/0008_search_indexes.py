"""Trigram indexes for searching the work queues by file number or counsel's name, in part (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 16:40:00.000000

"""
import logging

from alembic import context, op
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")
# Named with the suffix backoffice.extensions.SEARCH_INDEX_SUFFIX, which comparisons with the models leave out.
SEARCH_INDEXES = (
    ("ix_cases_file_number_trgm", "cases", "file_number"),
    ("ix_counsel_full_name_trgm", "counsel", "full_name"),
)


def upgrade():
    """A search for part of a file number or a name (ILIKE '%...%') reads every case and counsel without
    them. They need the pg_trgm extension: where it cannot be had, searching works as before, only slower."""
    if context.get_context().dialect.name != "postgresql":
        return
    if context.is_offline_mode():  # a script for later: it needs the extension where it runs
        op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    elif not _trigrams():
        return
    for name, table, column in SEARCH_INDEXES:
        op.create_index(
            name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
        )


def downgrade():
    if context.get_context().dialect.name == "postgresql":
        for name, _table, _column in SEARCH_INDEXES:
            op.execute(sa.text(f'DROP INDEX IF EXISTS "{name}"'))


def _trigrams() -> bool:
    """Whether pg_trgm is installed, or could be installed here (it is a trusted extension: a database
    owner may install it, without being a superuser)."""
    connection = op.get_bind()
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as error:
        savepoint.rollback()
        logger.warning("pg_trgm is not available (%s): searching in part works without its indexes.", error.orig)
        return False
    savepoint.commit()
    return True
