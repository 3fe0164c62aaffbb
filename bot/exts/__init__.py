"""Cogs, one per command family; `_render` builds every message within Discord's limits."""
