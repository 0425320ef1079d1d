"""Match runs' routes: settings, runs, drafts and their publication (on the programmes blueprint, under a
programme's path)."""
