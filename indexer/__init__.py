"""Procedure sheets for France Services agents: parse, index and search them."""

__version__ = "0.4.1"
