"""A programme's report and exports (on the programmes blueprint, under a programme's path)."""
