"""The messengers: Telegram and Zalo adapters, the local chat, and how a message is
shown as text. Adapters only translate."""
