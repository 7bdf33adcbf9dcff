"""Jobs keep the office they were run from, so that regional supervisors see only their office's jobs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_id', sa.Integer(), nullable=True))
    # A job run before this revision takes the office of the staff member who started it; one started from
    # the command line has none, and only national scope sees it.
    op.execute(
        "UPDATE job_runs SET office_id = "
        "(SELECT staff_users.office_id FROM staff_users WHERE staff_users.id = job_runs.requested_by_id)"
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_office_id'), ['office_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_job_runs_office_id_offices'), 'offices', ['office_id'], ['id'])


def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_job_runs_office_id_offices'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_job_runs_office_id'))
        batch_op.drop_column('office_id')
