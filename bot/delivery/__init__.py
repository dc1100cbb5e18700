"""The path of a message: inbox, dispatcher (lock, load, advance, commit), outbox,
the senders with their flood limits, and the health of the parts that run."""
