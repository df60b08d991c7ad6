"""OGC API – Features (Part 1 Core with GeoJSON, Part 3 filtering with CQL2 text), without HTTP.

``collections`` describes what is published (public columns only), ``cql2`` turns a CQL2 text
filter into parameterised SQL through a collection's queryables, ``items`` runs the paged
queries and ``documents`` builds the JSON documents (landing page, conformance, collections,
queryables). The HTTP side is ``api/routers/ogc.py``.
"""
