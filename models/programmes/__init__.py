"""The programmes' tables: programmes, enrolment, pairings and goals."""
