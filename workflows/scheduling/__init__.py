"""When a booking may happen: the rules a time must pass, weekly hours, the mentor's schedule lock and commitments,
free slots and teams' round robin.
"""
