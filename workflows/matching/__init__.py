"""Matching a programme's cohort: scores with reasons, the exact assignment, runs on the matching worker, drafts a
coordinator reviews and publishes, and a mentee's own choice among their best mentors."""
