"""Programme reports: the dashboard's summaries, kept by the analytics worker, and exports."""
