"""The street report: a self-contained HTML file (folium, with Leaflet inlined from the
project's npm packages, no external URL) and the indicator table as CSV and XLSX."""

from geo.report.html import street_report
from geo.report.tables import indicator_table, to_csv, to_xlsx

__all__ = ["indicator_table", "street_report", "to_csv", "to_xlsx"]
