"""Streaming path of spec §6: Kinesis streams -> cleaned Delta tables, one query and checkpoint per stream."""
