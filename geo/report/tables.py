"""The street's indicator table: one row per grid (counts, then value, target and pass of
every indicator), as CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX (a sheet of
grids and a sheet of the street's summary)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd


def indicator_table(coverage: dict[str, Any]) -> pd.DataFrame:
    rows = []
    names = {k: i["name_zh"] for k, i in coverage["indicators"].items()}
    for f in coverage["features"]:
        p = f["properties"]
        row: dict[str, Any] = {"网格编码": p["code"], "网格": p["name"]}
        row.update({f"计数:{k}": v for k, v in p["counts"].items()})
        for key, judged in p["indicators"].items():
            row[f"{names[key]}"] = judged["value"]
            row[f"{names[key]}·目标"] = judged["target"]
            row[f"{names[key]}·达标"] = {True: "达标", False: "未达标"}.get(judged["pass"], "")
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(coverage: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([
        {"指标": s["name_zh"], "目标": coverage["targets"][k],
         "至多": coverage["indicators"][k]["at_most"], "达标": s["pass"], "未达标": s["short"],
         "无数据": s["unknown"], "依据": coverage["indicators"][k]["source"]}
        for k, s in coverage["summary"].items()])


def to_csv(coverage: dict[str, Any]) -> bytes:
    return indicator_table(coverage).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(coverage: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as book:
        indicator_table(coverage).to_excel(book, sheet_name="网格", index=False)
        summary_table(coverage).to_excel(book, sheet_name="汇总", index=False)
    return out.getvalue()
