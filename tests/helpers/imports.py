"""Helpers of the importer tests: export files written for a test, warnings looked up."""

import json


def warned(result, *fragments) -> bool:
    """Does one warning of the import hold every fragment?"""
    return any(all(f in w for f in fragments) for w in result.warnings)


def write(tmp_path, name, data) -> str:
    """An export file in tmp_path: text as given, anything else as JSON."""
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)
