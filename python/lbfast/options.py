"""The options of every function that validates or writes predictions, defined once.

``lbfast.dumps``, ``dump``, ``serialize``, ``NDJsonConverter.serialize``,
``ShardWriter``, ``validate``, ``validate_files`` and the Labelbox hand-off all take
these keywords:

- ``max_mask_pixels``: the largest width x height of a PNG mask that is decoded
  (default 2**28), against decompression bombs.
- ``ontology``: check the predictions against it (see ``lbfast.ontology``).
- ``resolve_schema_ids``: write each feature's ``schemaId`` from the ontology.
- ``required``: check the ontology's required classifications (default ``True``).
- ``threads``: how many threads check and write (default: all cores, or
  ``RAYON_NUM_THREADS``); the GIL is released meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, TypedDict, Union, cast

from lbfast.ontology.ontology import Ontology, ontology_index

if TYPE_CHECKING:
    from lbfast._core import OntologyIndex
    from lbfast.ontology.loading import OntologyLike


class CheckOptions(TypedDict, total=False):
    """Every option but the ontology, which ``validate`` also takes positionally."""

    max_mask_pixels: Optional[int]
    resolve_schema_ids: bool
    required: bool
    threads: Optional[int]


class Options(CheckOptions, total=False):
    """The keywords of every function that validates or writes."""

    ontology: Optional[Union[Ontology, OntologyLike]]


class CoreOptions(TypedDict):
    """The keywords of ``_core.dumps`` and ``_core.encode`` (the binding's contract)."""

    max_mask_pixels: Optional[int]
    ontology: Optional[OntologyIndex]
    resolve_schema_ids: bool
    required: bool
    threads: Optional[int]


_NAMES = Options.__required_keys__ | Options.__optional_keys__


def without_ontology(options: Options) -> CheckOptions:
    """``options`` but the ontology, for the functions that take it apart."""
    # A TypedDict without one of its keys: the other keys and their types stay.
    return cast("CheckOptions", {k: v for k, v in options.items() if k != "ontology"})


def core_options(options: Options) -> CoreOptions:
    """``options`` (:class:`Options`) as ``_core``'s keywords, with the defaults filled
    in and the ontology indexed once. A keyword that is no option is a ``TypeError``,
    as it would be for a function that spelled the options out."""
    unknown = sorted(set(options) - _NAMES)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    ontology = options.get("ontology")
    resolve_schema_ids = bool(options.get("resolve_schema_ids", False))
    return {
        "max_mask_pixels": options.get("max_mask_pixels"),
        "ontology": (
            None
            if ontology is None
            else ontology_index(ontology, resolve_schema_ids=resolve_schema_ids)
        ),
        "resolve_schema_ids": resolve_schema_ids,
        "required": bool(options.get("required", True)),
        "threads": options.get("threads"),
    }
