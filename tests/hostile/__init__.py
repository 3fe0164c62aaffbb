"""Hostile inputs generated at test time, served on 127.0.0.1, and the suite that adds them."""
