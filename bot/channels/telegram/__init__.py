"""Telegram: translate updates into engine events and outbox payloads into Bot API calls."""
