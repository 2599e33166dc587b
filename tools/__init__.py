"""Developer tools (fuzzing)."""
