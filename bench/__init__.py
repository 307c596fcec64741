"""Benchmarks (`make bench-*`). Each reads DATABASE_URL like the application, creates what it needs
in a database of its own next to it, and ends with one `BENCH name key=value ...` line."""
