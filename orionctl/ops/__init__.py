"""Operators' tools: consumer lag and offset rewinds (replays) for Kafka consumer groups."""
