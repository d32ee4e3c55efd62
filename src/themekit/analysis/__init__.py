"""Analysis of a run: tables (frames), theme summaries, evaluation and agreement with human coders, topic suggestions."""
