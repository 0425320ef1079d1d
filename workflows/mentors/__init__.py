"""Mentors: profiles, time off and date overrides, listings, team invitations and search."""
