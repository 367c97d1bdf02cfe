"""Serving many visitors from one server: run slots and their queue, runs per browser, training
worker processes, settings. The only package with process-wide objects (shared.py), made on
first use."""
