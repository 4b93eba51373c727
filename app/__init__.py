"""Courtwatch: field notes for court watching."""
