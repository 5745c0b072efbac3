"""Parameters of every notebook: Databricks widgets when the runtime provides ``dbutils``, command-line options
when the same file runs locally (``spark-submit`` or ``python``). The one reader for the batch and streaming
notebooks, so they cannot disagree on how Databricks is detected or on a parameter's name."""

from __future__ import annotations

import argparse
from typing import Any


def notebook_parameters(description: str, notebook_globals: dict[str, Any], **defaults: str | None) -> dict[str, str]:
    """Values of the parameters named in ``defaults`` (``lake_root=None`` means required, no default).

    Locally a parameter ``lake_root`` is the option ``--lake-root``; on Databricks the widget ``lake_root`` (set by
    the job's ``base_parameters``). A required parameter left empty is an error naming it.
    """
    dbutils = notebook_globals.get("dbutils")
    if dbutils is None:
        parser = argparse.ArgumentParser(description=description)
        for name, default in defaults.items():
            option = f"--{name.replace('_', '-')}"
            parser.add_argument(option, required=default is None, default=default)
        return vars(parser.parse_args())
    values = {}
    for name, default in defaults.items():
        dbutils.widgets.text(name, default or "")
        values[name] = dbutils.widgets.get(name)
    missing = [name for name in defaults if not values[name]]
    if missing:
        raise ValueError(f"widgets {', '.join(missing)} must be set (the job's base_parameters)")
    return values


def show_html(page: str, notebook_globals: dict[str, Any]) -> None:
    """Show ``page`` under the notebook cell with Databricks' ``displayHTML``; locally there is no cell to show it
    in (the page is the report file), so nothing happens."""
    display_html = notebook_globals.get("displayHTML")
    if display_html is not None:
        display_html(page)
