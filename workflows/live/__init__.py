"""Live updates: the frames pushed to watchers of a listing, a session or a user, and their replay."""
