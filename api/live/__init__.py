"""Live updates over Server-Sent Events (``GET /api/v1/events/stream``): each signed-in viewer's stream of the
domain events they take part in, each frame showing its resource as the REST API would.

The events themselves are the domain's (``workflows/events.py``); what reaches Redis after each commit is
``workflows/live/frames.py``'s. Here: the stream (``stream``), what a frame shows (``frames``), the one-time tickets
a browser connects with (``tickets``), and the cap on open streams (``slots``).
"""
