"""The programmes' tables: programmes, enrolment, pairings, goals and plans."""
