"""The rules of the domain. Views and jobs call these; nothing else changes state.

Who owns the transaction — one rule, so that a reader knows where a change is committed:

- **A request's transaction is the view's.** A workflow called by a view changes the session and returns (or
  raises `refusals.Refused`); the view commits once it knows the answer. Staff actions go through
  `admin.base.run_action`, which commits, or rolls back and tells the reader why; portal API views commit
  before they answer. Queued jobs are sent only after that commit (`queue.enqueue_after_commit`).
- **A job's transaction is its workflow's.** The functions in `jobs/` only set up the context and call one
  workflow function (screening, delivery, meeting sync, case import, sweep), which commits its own steps: a
  job has no caller to do it.
- **A workflow commits in the middle only where a step must stand whatever comes next**, and says so where it
  does: a sign-in attempt reserved before the password is checked and a portal code failure counted before the
  refusal (`accounts`, `registration.invitation_codes`), so that a refusal cannot roll the count back; an
  audit event that must outlive a refused request (`audit.record_event_now`); a case import's run, committed
  with the copy of its file before its job is queued (`case_import.start_case_import`); each submission of a bulk
  acceptance, and each batch of a case import, on its own; no transaction left open while an outside service
  (Webex, GC Notify, SMTP) is called (`registration.meetings`, `notifications`); a screening run's start and
  end (`screening.workflow`).
- State changes are compare-and-set (`concurrency.compare_and_set`, `state_machine`), so that whoever commits,
  two people acting at once never both win, on SQLite as on PostgreSQL.
"""
