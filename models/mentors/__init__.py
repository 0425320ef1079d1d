"""The mentors' tables: profiles, listings and teams."""
