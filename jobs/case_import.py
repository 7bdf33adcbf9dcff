"""Job: import a case management system CSV export recorded as a JobRun."""

from backoffice.workflows import case_import
from jobs.context import job_context


def run_case_import(run_id: int) -> dict[str, int] | None:
    with job_context():
        run = case_import.import_cases(run_id)
        return dict(run.summary) if run is not None else None
