"""Turn a validated raw frame (all strings) into typed records, with labels from the codebook.

Cleaned schema of `clean_instrument` (the aggregation stage codes against exactly this):

- one row per raw data row, in file order, with a fresh RangeIndex; columns in codebook order: the instrument's
  structural columns (codebook `instruments.<id>.columns`), then every item column (`Codebook.required_columns`);
  a code column is followed by its `<col>_label` column. Unknown raw columns are dropped (validation rejects them).
- missing values: a blank cell and a scale's missing code (9 "keine Angabe", -9, ...) both become NA.

| column type / scale kind   | dtype                                                                          |
|----------------------------|--------------------------------------------------------------------------------|
| id, text                   | ``str`` (blank text → NA)                                                      |
| site                       | ``category`` of site codes, categories = phase.yaml site order, unordered       |
| date                       | ``datetime64[ns]``                                                             |
| quarter                    | ``category`` of ``YYYY-Qn``, categories = `PhaseConfig.quarters`, ordered      |
| integer                    | ``Int64``                                                                      |
| code (e.g. partner type)   | ``category`` of the codes as strings in scale order, unordered; plus           |
|                            | ``<col>_label`` (``str``: the level label, NA where the code is NA)            |
| item, ordinal / grade      | ``category`` of level LABELS in scale order, ordered=True                      |
| item, nominal              | ``category`` of level LABELS in scale order, ordered=False                     |
| item, mention (one column  | ``Int8`` 0/1                                                                   |
| per option)                |                                                                                |
| item, count                | ``Int64``                                                                      |

Categories always list every level, including levels nobody chose, so that counts of zero stay visible.
"""

from __future__ import annotations

import pandas as pd

from thinka.codebook import Codebook, PhaseConfig, Scale

_ORDERED_KINDS = ("ordinal", "grade")


def _blank_to_na(s: pd.Series, missing_codes=()) -> pd.Series:
    """Blank cells and the scale's missing codes become NA (as strings, before any conversion)."""
    s = s.astype("str")
    na = (s == "") | s.isin([str(c) for c in missing_codes])
    return s.where(~na)


def _to_int(s: pd.Series, missing_codes=()) -> pd.Series:
    return pd.to_numeric(_blank_to_na(s, missing_codes)).astype("Int64")


def _codes_categorical(s: pd.Series, scale: Scale) -> pd.Series:
    cleaned = _blank_to_na(s, scale.missing_codes)
    return pd.Series(pd.Categorical(cleaned, categories=[str(c) for c in scale.codes]), index=s.index, name=s.name)


def _labels_categorical(s: pd.Series, scale: Scale) -> pd.Series:
    cleaned = _blank_to_na(s, scale.missing_codes)
    labels = cleaned.map({str(lv.code): lv.label for lv in scale.levels})
    cat = pd.Categorical(labels, categories=list(scale.labels), ordered=scale.kind in _ORDERED_KINDS)
    return pd.Series(cat, index=s.index, name=s.name)


def _item_column(s: pd.Series, scale: Scale) -> pd.Series:
    if scale.kind == "mention":
        return _to_int(s, scale.missing_codes).astype("Int8")
    if scale.kind == "count":
        return _to_int(s, scale.missing_codes)
    return _labels_categorical(s, scale)


def clean_instrument(frame: pd.DataFrame, instrument_id: str, config: PhaseConfig, codebook: Codebook) -> pd.DataFrame:
    """Typed records of one validated instrument frame (see the module docstring for the schema)."""
    frame = frame.reset_index(drop=True)
    spec = codebook.instruments[instrument_id]
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        s = frame[col.name]
        if col.type == "site":
            out[col.name] = pd.Series(pd.Categorical(_blank_to_na(s), categories=list(config.site_codes)), name=col.name)
        elif col.type == "date":
            out[col.name] = pd.to_datetime(_blank_to_na(s), format="%Y-%m-%d").astype("datetime64[ns]")
        elif col.type == "quarter":
            out[col.name] = pd.Series(
                pd.Categorical(_blank_to_na(s), categories=list(config.quarters), ordered=True), name=col.name
            )
        elif col.type == "integer":
            out[col.name] = _to_int(s)
        elif col.type == "code":
            scale = codebook.scales[col.scale]
            codes = _codes_categorical(s, scale)
            out[col.name] = codes
            labels = {str(lv.code): lv.label for lv in scale.levels}
            out[f"{col.name}_label"] = codes.astype("str").map(labels).astype("str").where(codes.notna())
        else:  # id, text
            out[col.name] = _blank_to_na(s)
    for item in codebook.items_of(instrument_id):
        scale = codebook.scales[item.scale]
        for colname in item.columns:
            out[colname] = _item_column(frame[colname], scale)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
