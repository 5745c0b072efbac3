"""Deterministic generator of the three source tables (spec §2)."""

from include.pinterest.source.generator import SourceExists, SourceWrite, generate_posts, write_source

__all__ = ["SourceExists", "SourceWrite", "generate_posts", "write_source"]
