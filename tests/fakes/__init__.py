"""Test doubles that speak real protocols on 127.0.0.1 (see discord_server.py)."""
