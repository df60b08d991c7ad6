"""The public "who is my grid worker" lookup: input (``parse``), in-memory indexes (``index``)
kept fresh from the database (``cache``), and the answer (``answer``)."""

from geo.lookup.answer import lookup_many, service_centre, straight_m
from geo.lookup.cache import LookupCache
from geo.lookup.parse import parse_point

__all__ = ["LookupCache", "lookup_many", "parse_point", "service_centre", "straight_m"]
