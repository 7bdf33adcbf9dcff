"""What staff pages read: the queries behind the work queues, the submission page and the supervisors'
dashboard. Read only: a report changes nothing (the rules that change things are in workflows/)."""
