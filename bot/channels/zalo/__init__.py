"""Zalo: the Zalo Bot API over aiohttp, text only (no buttons, no documents)."""
