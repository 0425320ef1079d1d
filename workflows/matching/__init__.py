"""Matching a programme's cohort: scores with reasons, the exact assignment, runs on the matching worker (their table,
``lifecycle``; the request's side, ``runs``; the worker's side, ``execution``), drafts a coordinator reviews and
publishes, and a mentee's own choice among their best mentors."""
