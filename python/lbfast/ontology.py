"""Ontologies: the SDK's builder, loading an exported ontology, and checking
predictions against one before they are uploaded.

The builder is the SDK's (``labelbox.OntologyBuilder`` and friends), so the guide's
code runs with ``import lbfast as lb``; ``asdict()`` gives the same dict, key for key:

    builder = lb.OntologyBuilder(
        tools=[lb.Tool(tool=lb.Tool.Type.BBOX, name="car")],
        classifications=[lb.Classification(
            class_type=lb.Classification.Type.RADIO, name="weather",
            options=[lb.Option(value="sunny"), lb.Option(value="rain")])],
    )

Checking needs no network: ``lbfast.validate(predictions, ontology)`` returns a
:class:`Report` of every problem (row, path, kind, message, suggestion);
``lbfast.dumps(predictions, ontology=...)`` raises ``lbfast.ValidationError`` instead
and writes nothing. An ontology can be a builder, ``Ontology.from_json(path)`` (the
JSON Labelbox exports, with ``featureSchemaId``s), a dict, or the SDK's own objects.
"""

from __future__ import annotations

import bisect
import colorsys
import copy
import json
import os
import re
import warnings
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Optional, Union

from lbfast import _core
from lbfast.errors import ValidationError

__all__ = [
    "Classification",
    "FeatureSchemaAttribute",
    "InconsistentOntologyException",
    "MediaType",
    "Ontology",
    "OntologyBuilder",
    "OntologyWarning",
    "Option",
    "Problem",
    "Report",
    "Tool",
    "Validator",
    "validate",
    "validate_files",
]


class InconsistentOntologyException(ValueError):
    """An ontology that cannot be built: a duplicate name, a question without options."""


class OntologyWarning(UserWarning):
    """Predictions were amended to fit the ontology (see :class:`Report.warnings`)."""


class MediaType(Enum):
    """The media types of the SDK's ``labelbox.MediaType`` (``MediaType.Image``)."""

    Audio = "AUDIO"
    Conversational = "CONVERSATIONAL"
    Document = "PDF"
    Geospatial_Tile = "TMS_GEO"
    Html = "HTML"
    Image = "IMAGE"
    Pdf = "PDF"
    Simple_Tile = "TMS_SIMPLE"
    Text = "TEXT"
    Tms_Geo = "TMS_GEO"
    Tms_Simple = "TMS_SIMPLE"
    Unknown = "UNKNOWN"
    Unsupported = "UNSUPPORTED"
    Video = "VIDEO"
    Point_Cloud = "POINT_CLOUD"
    LLM = "LLM"

    @classmethod
    def _missing_(cls, value: object) -> Optional[MediaType]:
        # Names in any case ("image", "Image"), as the API spells them at times.
        if isinstance(value, str):
            wanted = value.replace("-", "_").upper()
            for name, member in cls.__members__.items():
                if name.upper() == wanted:
                    return member
        return None


@dataclass
class FeatureSchemaAttribute:
    """An attribute of a tool or classification (beta in Labelbox)."""

    # The wire names, as the SDK has them.
    attributeName: str
    attributeValue: str

    def asdict(self) -> dict[str, str]:
        return {"attributeName": self.attributeName, "attributeValue": self.attributeValue}

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> FeatureSchemaAttribute:
        return cls(dictionary["attributeName"], dictionary["attributeValue"])


def _attributes_asdict(attributes: Optional[list[Any]]) -> Optional[list[Any]]:
    if attributes is None:
        return None
    return [a.asdict() if hasattr(a, "asdict") else dict(a) for a in attributes]


def _attributes_from(dictionary: dict[str, Any]) -> Optional[list[FeatureSchemaAttribute]]:
    found = dictionary.get("attributes")
    return [FeatureSchemaAttribute.from_dict(a) for a in found] if found else None


def _enum(kind: type[Enum], value: Any) -> Any:
    """``value`` as a member of ``kind``; its text value is accepted too."""
    return value if isinstance(value, kind) or value is None else kind(value)


@dataclass
class Option:
    """An answer of a radio or checklist question; ``value`` is what predictions name.

    ``options`` holds the classifications nested under this answer.
    """

    value: Union[str, int]
    label: Optional[Union[str, int]] = None
    schema_id: Optional[str] = None
    feature_schema_id: Optional[str] = None
    options: list[Classification] = field(default_factory=list)
    position: Optional[int] = None

    def __post_init__(self) -> None:
        if self.label is None:
            self.label = self.value

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> Option:
        value = dictionary["value"] if "value" in dictionary else dictionary["label"]
        return cls(
            value=value,
            label=dictionary.get("label", value),
            schema_id=dictionary.get("schemaNodeId"),
            feature_schema_id=dictionary.get("featureSchemaId"),
            options=[Classification.from_dict(c) for c in dictionary.get("options") or []],
            position=dictionary.get("position"),
        )

    def asdict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaNodeId": self.schema_id,
            "featureSchemaId": self.feature_schema_id,
            "label": self.label,
            "value": self.value,
            "options": [c.asdict(is_subclass=True) for c in self.options],
        }
        if self.position is not None:
            out["position"] = self.position
        return out

    def add_option(self, option: Classification) -> None:
        """Nests a classification under this answer."""
        if option.name in (o.name for o in self.options):
            raise InconsistentOntologyException(
                f"Duplicate nested classification '{option.name}' for option '{self.label}'"
            )
        self.options.append(option)


@dataclass
class Classification:
    """A radio, checklist or text question: global, or nested in a tool or an answer."""

    class Type(Enum):
        TEXT = "text"
        CHECKLIST = "checklist"
        RADIO = "radio"
        GROUP = "group"

    class Scope(Enum):
        GLOBAL = "global"
        INDEX = "index"

    class UIMode(Enum):
        HOTKEY = "hotkey"
        SEARCHABLE = "searchable"

    class_type: Classification.Type
    name: Optional[str] = None
    instructions: Optional[str] = None
    required: bool = False
    options: list[Option] = field(default_factory=list)
    schema_id: Optional[str] = None
    feature_schema_id: Optional[str] = None
    scope: Optional[Classification.Scope] = None
    ui_mode: Optional[Classification.UIMode] = None
    attributes: Optional[list[FeatureSchemaAttribute]] = None
    is_likert_scale: bool = False

    def __post_init__(self) -> None:
        self.class_type = _enum(Classification.Type, self.class_type)
        self.scope = _enum(Classification.Scope, self.scope)
        self.ui_mode = _enum(Classification.UIMode, self.ui_mode)
        if self.name is None:
            if self.instructions is None:
                raise ValueError(
                    'a Classification needs a "name": predictions refer to it by that name'
                )
            warnings.warn(
                'Classification(instructions=...) without "name": the instructions are used '
                "as the name, which predictions refer to",
                stacklevel=3,
            )
            self.name = self.instructions
        elif self.instructions is None:
            self.instructions = self.name

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> Classification:
        return cls(
            class_type=Classification.Type(dictionary["type"]),
            name=dictionary.get("name"),
            instructions=dictionary.get("instructions"),
            required=dictionary.get("required", False),
            options=[Option.from_dict(o) for o in dictionary.get("options") or []],
            ui_mode=dictionary.get("uiMode"),
            schema_id=dictionary.get("schemaNodeId"),
            feature_schema_id=dictionary.get("featureSchemaId"),
            scope=dictionary.get("scope", "global"),
            attributes=_attributes_from(dictionary),
            is_likert_scale=dictionary.get("isLikertScale", False),
        )

    def asdict(self, is_subclass: bool = False) -> dict[str, Any]:
        kind = self.class_type
        has_options = kind in (Classification.Type.RADIO, Classification.Type.CHECKLIST)
        if has_options and not self.options:
            raise InconsistentOntologyException(f"Classification '{self.name}' requires options.")
        out: dict[str, Any] = {
            "type": kind.value,
            "instructions": self.instructions,
            "name": self.name,
            "required": self.required,
            "options": [o.asdict() for o in self.options],
            "schemaNodeId": self.schema_id,
            "featureSchemaId": self.feature_schema_id,
            "attributes": _attributes_asdict(self.attributes),
        }
        if kind == Classification.Type.RADIO and self.is_likert_scale:
            out["isLikertScale"] = True
        if has_options and self.ui_mode:
            out["uiMode"] = self.ui_mode.value
        if not is_subclass:
            out["scope"] = (self.scope or Classification.Scope.GLOBAL).value
        return out

    def add_option(self, option: Option) -> None:
        if option.value in (o.value for o in self.options):
            raise InconsistentOntologyException(
                f"Duplicate option '{option.value}' for classification '{self.name}'."
            )
        if option.position is None:
            option.position = len(self.options)
        self.options.append(option)


@dataclass
class Tool:
    """A tool (object kind) of the ontology; predictions of it carry its geometry."""

    class Type(Enum):
        POLYGON = "polygon"
        SEGMENTATION = "superpixel"
        RASTER_SEGMENTATION = "raster-segmentation"
        POINT = "point"
        BBOX = "rectangle"
        LINE = "line"
        NER = "named-entity"
        RELATIONSHIP = "edge"
        MESSAGE_SINGLE_SELECTION = "message-single-selection"
        MESSAGE_MULTI_SELECTION = "message-multi-selection"
        MESSAGE_RANKING = "message-ranking"
        MARKER = "marker"

    tool: Tool.Type
    name: str
    required: bool = False
    color: Optional[str] = None
    classifications: list[Classification] = field(default_factory=list)
    schema_id: Optional[str] = None
    feature_schema_id: Optional[str] = None
    attributes: Optional[list[FeatureSchemaAttribute]] = None

    def __post_init__(self) -> None:
        self.tool = _enum(Tool.Type, self.tool)

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> Tool:
        return cls(
            tool=Tool.Type(dictionary["tool"]),
            name=dictionary["name"],
            required=dictionary.get("required", False),
            color=dictionary.get("color"),
            classifications=[
                Classification.from_dict(c) for c in dictionary.get("classifications") or []
            ],
            schema_id=dictionary.get("schemaNodeId"),
            feature_schema_id=dictionary.get("featureSchemaId"),
            attributes=_attributes_from(dictionary),
        )

    def asdict(self) -> dict[str, Any]:
        return {
            "tool": self.tool.value,
            "name": self.name,
            "required": self.required,
            "color": self.color,
            "classifications": [c.asdict(is_subclass=True) for c in self.classifications],
            "schemaNodeId": self.schema_id,
            "featureSchemaId": self.feature_schema_id,
            "attributes": _attributes_asdict(self.attributes),
        }

    def add_classification(self, classification: Classification) -> None:
        if classification.name in (c.name for c in self.classifications):
            raise InconsistentOntologyException(
                f"Duplicate nested classification '{classification.name}' for tool '{self.name}'"
            )
        self.classifications.append(classification)


def _hue_color(index: int, count: int) -> str:
    """``#rrggbb`` of hue ``index / count`` at full saturation and value."""
    r, g, b = colorsys.hsv_to_rgb(index / count, 1.0, 1.0)
    return f"#{int(255 * r):02x}{int(255 * g):02x}{int(255 * b):02x}"


@dataclass
class OntologyBuilder:
    """Tools and global classifications; ``asdict()`` is what ``create_ontology`` takes.

    Tools without a colour get one spread over the hue circle when ``asdict()`` runs.
    """

    tools: list[Tool] = field(default_factory=list)
    classifications: list[Classification] = field(default_factory=list)

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> OntologyBuilder:
        """From ``asdict()`` or an ontology exported from Labelbox (missing keys default)."""
        dictionary = _unwrap(dictionary)
        return cls(
            tools=[Tool.from_dict(t) for t in dictionary.get("tools") or []],
            classifications=[
                Classification.from_dict(c) for c in dictionary.get("classifications") or []
            ],
        )

    @classmethod
    def from_ontology(cls, ontology: Any) -> OntologyBuilder:
        """From an SDK ``Ontology`` (its ``normalized``) or an :class:`Ontology`."""
        return cls.from_dict(Ontology.of(ontology).normalized)

    def asdict(self) -> dict[str, Any]:
        count = len(self.tools)
        for i, tool in enumerate(self.tools):
            if tool.color is None:
                tool.color = _hue_color(i, count)
        return {
            "tools": [t.asdict() for t in self.tools],
            "classifications": [c.asdict() for c in self.classifications],
        }

    def add_tool(self, tool: Tool) -> None:
        if tool.name in (t.name for t in self.tools):
            raise InconsistentOntologyException(f"Duplicate tool name '{tool.name}'. ")
        self.tools.append(tool)

    def add_classification(self, classification: Classification) -> None:
        if classification.name in (c.name for c in self.classifications):
            raise InconsistentOntologyException(
                f"Duplicate classification name '{classification.name}'. "
            )
        self.classifications.append(classification)


# --- A loaded, indexed ontology --------------------------------------------------------


def _unwrap(data: dict[str, Any]) -> dict[str, Any]:
    """The ``{"tools", "classifications"}`` part of an export (``normalized`` wrappers)."""
    while isinstance(data, dict) and "tools" not in data and "classifications" not in data:
        inner = data.get("normalized", data.get("ontology"))
        if inner is None:
            break
        data = json.loads(inner) if isinstance(inner, (str, bytes)) else inner
    return data


class Ontology:
    """An ontology ready for checking predictions, indexed once (in Rust).

    Make one with ``Ontology.from_json(path_or_text_or_dict)`` from the JSON Labelbox
    exports (``featureSchemaId``s and ``schemaNodeId``s included, nested options at
    any depth), or ``Ontology.of(anything)`` from a builder, a dict, a path or the
    SDK's ``Ontology``/``OntologyBuilder``. ``ValueError`` lists an ontology's
    ambiguities (two features of one name at one place).
    """

    def __init__(self, normalized: dict[str, Any], *, source: Optional[str] = None) -> None:
        normalized = _unwrap(normalized)
        if not isinstance(normalized, dict) or not (
            "tools" in normalized or "classifications" in normalized
        ):
            raise ValueError(
                f"not an ontology{f' ({source})' if source else ''}: expected a JSON object "
                'with "tools" and "classifications"'
            )
        self.normalized: dict[str, Any] = normalized
        self.source = source
        self.index = _core.OntologyIndex(normalized)

    @classmethod
    def from_json(cls, source: Union[str, bytes, os.PathLike[str], dict[str, Any]]) -> Ontology:
        """From a path, JSON text or an already parsed dict."""
        if isinstance(source, dict):
            return cls(source)
        if isinstance(source, bytes) or (
            isinstance(source, str) and source.lstrip().startswith("{")
        ):
            return cls(_parse_ontology(source, "JSON text"), source="JSON text")
        path = Path(os.fspath(source))
        with open(path, "rb") as f:
            return cls(_parse_ontology(f.read(), str(path)), source=str(path))

    @classmethod
    def from_dict(cls, dictionary: dict[str, Any]) -> Ontology:
        return cls(dictionary)

    @classmethod
    def of(cls, ontology: Any) -> Ontology:
        """``ontology`` as an :class:`Ontology`: an Ontology, a builder (ours or the
        SDK's), a dict, a path or JSON text, or the SDK's ``Ontology`` object."""
        if isinstance(ontology, Ontology):
            return ontology
        if isinstance(ontology, (dict, str, bytes, os.PathLike)):
            return cls.from_json(ontology)
        normalized = getattr(ontology, "normalized", None)
        if normalized is not None and not callable(normalized):
            if isinstance(normalized, (str, bytes)):
                normalized = json.loads(normalized)
            return cls(normalized, source=type(ontology).__name__)
        if callable(getattr(ontology, "asdict", None)):
            # asdict() assigns colours to the builder's tools; leave the caller's alone.
            return cls(copy.deepcopy(ontology).asdict(), source=type(ontology).__name__)
        raise TypeError(
            "expected an ontology: lbfast.Ontology, an OntologyBuilder, a dict, a path "
            f"to an exported ontology JSON, or the SDK's Ontology; got {type(ontology).__name__}"
        )

    def builder(self) -> OntologyBuilder:
        return OntologyBuilder.from_dict(self.normalized)

    @property
    def tool_names(self) -> list[str]:
        return [t.get("name") for t in self.normalized.get("tools") or []]

    @property
    def classification_names(self) -> list[str]:
        return [c.get("name") for c in self.normalized.get("classifications") or []]

    def features_without_schema_id(self) -> list[str]:
        """Features that have no ``featureSchemaId`` (an ontology built locally)."""
        return self.index.features_without_schema_id()

    def __repr__(self) -> str:
        where = f", source={self.source!r}" if self.source else ""
        return (
            f"Ontology({self.index.tool_count} tools, "
            f"{self.index.classification_count} classifications{where})"
        )


def _parse_ontology(text: Union[str, bytes], source: str) -> Any:
    """JSON text of an ontology; a ``ValueError`` naming ``source`` when it is not JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"not an ontology ({source}): nested too deeply") from None


def ontology_index(ontology: Any, *, resolve_schema_ids: bool = False) -> Any:
    """The Rust index of ``ontology`` (see :meth:`Ontology.of`), for ``_core`` calls.

    Resolving names to schema ids needs every feature's id; a ``ValueError`` names
    those that have none.
    """
    onto = Ontology.of(ontology)
    if resolve_schema_ids:
        missing = onto.features_without_schema_id()
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise ValueError(
                f"cannot resolve names to schema ids: {len(missing)} features of the ontology "
                f"have no featureSchemaId ({shown}); use the ontology as exported from Labelbox"
            )
    return onto.index


# --- Reports --------------------------------------------------------------------------

# Problems of the predictions themselves (no ontology needed), and unreadable input.
INVALID = "invalid"
UNREADABLE = "unreadable"
# What a report keeps listing; every problem is counted.
MAX_LISTED = 1000

_OMITTED = re.compile(r"^(\d+) more problems? from this row on are not listed")


@dataclass(frozen=True)
class Problem:
    """One problem: which input item (``row``; ``source`` is ``file:line`` for files),
    where inside it (``path``), what (``kind``, ``message``) and a likely fix."""

    row: int
    path: str
    message: str
    kind: str = INVALID
    suggestion: Optional[str] = None
    severity: str = "error"
    source: Optional[str] = None

    def __str__(self) -> str:
        where = self.source or f"row {self.row}"
        path = f"{self.path}: " if self.path else ""
        fix = f" ({self.suggestion})" if self.suggestion else ""
        return f"{where}: {path}{self.message}{fix}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "source": self.source,
            "path": self.path,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass
class Report:
    """Every problem of a check: ``errors`` and ``warnings`` (the first
    :data:`MAX_LISTED` of each, in row order) and ``counts`` of all errors by kind."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    annotations: int = 0
    items: int = 0

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def error_count(self) -> int:
        return sum(self.counts.values())

    @property
    def warning_count(self) -> int:
        return sum(self.warning_counts.values())

    def raise_for_errors(self) -> None:
        """Raises ``lbfast.ValidationError`` (with ``.report``) when there are errors."""
        if self.ok:
            return
        err = ValidationError(
            [
                (p.row, p.path, p.message + (f"; {p.suggestion}" if p.suggestion else ""))
                for p in self.errors
            ]
        )
        err.report = self  # type: ignore[attr-defined]
        raise err

    def summary(self) -> str:
        def kinds(counts: dict[str, int]) -> str:
            return ", ".join(f"{k}: {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))

        text = (
            f"{self.items} item{'s' if self.items != 1 else ''}, "
            f"{self.annotations} annotation{'s' if self.annotations != 1 else ''}: "
            f"{self.error_count} error{'s' if self.error_count != 1 else ''}"
        )
        if self.counts:
            text += f" ({kinds(self.counts)})"
        text += f", {self.warning_count} warning{'s' if self.warning_count != 1 else ''}"
        if self.warning_counts:
            text += f" ({kinds(self.warning_counts)})"
        return text

    def __str__(self) -> str:
        lines = [str(p) for p in self.errors]
        lines += [f"warning: {p}" for p in self.warnings]
        return "\n".join([*lines, self.summary()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "items": self.items,
            "annotations": self.annotations,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(self.counts),
            "warning_counts": dict(self.warning_counts),
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
        }


class Validator:
    """Checks predictions in as many calls as needed (files, chunks) and reports
    once: required global classifications are checked per data row across all calls.

        v = Validator(ontology)
        for chunk in chunks:
            v.check(chunk)
        report = v.finish()
    """

    def __init__(
        self,
        ontology: Any = None,
        *,
        required: bool = True,
        max_mask_pixels: Optional[int] = None,
    ) -> None:
        self.ontology = None if ontology is None else Ontology.of(ontology)
        self.required = required
        self.max_mask_pixels = max_mask_pixels
        self._state = _core.CheckState()
        self._report = Report()
        self._rows = 0

    @property
    def rows(self) -> int:
        """Items checked so far; the next call's first row."""
        return self._rows

    @property
    def ok(self) -> bool:
        """No error so far."""
        return not self._report.counts

    def check(
        self, items: Iterable[Any], *, sources: Optional[Callable[[int], str]] = None
    ) -> list[Problem]:
        """Checks ``items`` (rows continue from the previous call) and returns their
        problems. ``sources(row)`` may name where a row came from (``file:line``)."""
        items = items if isinstance(items, list) else list(items)
        first = self._rows
        index = self.ontology.index if self.ontology is not None else None
        try:
            found, count = _core.check(
                items,
                ontology=index,
                state=self._state,
                first_row=first,
                required=self.required,
                max_mask_pixels=self.max_mask_pixels,
            )
        except TypeError as err:
            # A value of the wrong Python type stops a whole call; find which items.
            if len(items) > 1:
                return self._one_by_one(items, sources)
            return self._wrong_type(err, sources)
        self._rows += len(items)
        self._report.items += len(items)
        self._report.annotations += count
        return self._add(found, sources)

    def _one_by_one(
        self, items: list[Any], sources: Optional[Callable[[int], str]]
    ) -> list[Problem]:
        problems = []
        for item in items:
            problems += self.check([item], sources=sources)
        return problems

    def _wrong_type(self, err: TypeError, sources: Optional[Callable[[int], str]]) -> list[Problem]:
        """The one item of a call that raised ``err``, reported like any other problem."""
        row = self._rows
        self._rows += 1
        self._report.items += 1
        text = re.sub(r"^row \d+:\s*", "", str(err))
        return self._add([(row, "", text, INVALID, None, "error")], sources)

    def add_problem(self, problem: Problem) -> None:
        """Records a problem found outside the check (an unreadable line)."""
        self._add(
            [
                (
                    problem.row,
                    problem.path,
                    problem.message,
                    problem.kind,
                    problem.suggestion,
                    problem.severity,
                )
            ],
            lambda _row: problem.source or "",
        )

    def skip(self, count: int = 1) -> None:
        """Counts ``count`` rows that could not be checked (they keep their numbers)."""
        self._rows += count
        self._report.items += count

    def _add(self, found: list[tuple], sources: Optional[Callable[[int], str]]) -> list[Problem]:
        out = []
        report = self._report
        for row, path, message, kind, suggestion, severity in found:
            source = sources(row) if sources else None
            problem = Problem(row, path, message, kind, suggestion, severity, source or None)
            out.append(problem)
            counts = report.counts if severity == "error" else report.warning_counts
            kept = report.errors if severity == "error" else report.warnings
            omitted = _OMITTED.match(message) if kind == INVALID else None
            if omitted:
                counts[kind] = counts.get(kind, 0) + int(omitted.group(1))
            else:
                counts[kind] = counts.get(kind, 0) + 1
            if len(kept) < MAX_LISTED:
                kept.append(problem)
        return out

    def finish(self, *, sources: Optional[Callable[[int], str]] = None) -> Report:
        """The report of every call so far, with missing required global classifications."""
        if self.ontology is not None and self.required:
            self._add(self._state.finish(self.ontology.index), sources)
            self._state = _core.CheckState()
        report = self._report
        report.errors.sort(key=lambda p: p.row)
        report.warnings.sort(key=lambda p: p.row)
        return report


def validate(
    items: Iterable[Any],
    ontology: Any = None,
    *,
    required: bool = True,
    max_mask_pixels: Optional[int] = None,
) -> Report:
    """Checks predictions (typed Labels, NDJSON-shaped dicts, columnar batches, mixed)
    and returns a :class:`Report` of every problem; nothing is written.

    Without ``ontology`` only the predictions themselves are checked (what ``dumps``
    refuses). With one, also: every tool, classification and answer exists (by name
    or schema id), at the place the ontology puts it, at any depth; geometries fit
    their tools; answers fit their question's type; names and schema ids agree;
    required classifications are there (per object, per chosen answer and, with
    ``required=True``, global ones per data row). ``report.raise_for_errors()`` turns
    it into ``lbfast.ValidationError``.
    """
    v = Validator(ontology, required=required, max_mask_pixels=max_mask_pixels)
    v.check(items)
    return v.finish()


# --- Files ----------------------------------------------------------------------------

CHUNK_LINES = 20_000


def read_predictions(
    path: Union[str, os.PathLike[str]], *, on_bytes: Optional[Callable[[int], None]] = None
) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` of a predictions file: NDJSON (one JSON value a line), or one
    JSON array of them; ``line`` is where the value starts in the file, from 1. A
    value that is not JSON gives a ``ValueError`` as its value, with the column in the
    message. A UTF-8 byte-order mark is skipped. ``on_bytes(n)`` is told of bytes read."""
    path = Path(os.fspath(path))
    with open(path, "rb") as f:
        head = f.read(64)
        bom = len(_BOM) if head.startswith(_BOM) else 0
        f.seek(bom)
        if head[bom:].lstrip().startswith(b"["):
            data = f.read()
            if on_bytes:
                on_bytes(len(data) + bom)
            array = _array_elements(data)
            if array is not None:
                yield from array
                return
            f.seek(bom)  # not one array: a list on the first line of NDJSON
        pending = bom
        for number, line in enumerate(f, 1):
            pending += len(line)
            if on_bytes and pending >= 1 << 20:
                on_bytes(pending)
                pending = 0
            if not line.strip():
                continue
            yield number, _loads(line, number)
        if on_bytes and pending:
            on_bytes(pending)


_BOM = b"\xef\xbb\xbf"


def _loads(text: Union[str, bytes], line: int) -> Any:
    """One JSON value; a ``ValueError`` (returned, not raised) says what is wrong, in the
    file's terms (the line is the caller's, so the message gives the column only)."""
    try:
        return json.loads(text)
    except RecursionError:
        return ValueError("not valid JSON: nested too deeply")
    except json.JSONDecodeError as err:
        return ValueError(f"not valid JSON: {err.msg} (column {err.colno})")
    except ValueError as err:  # not UTF-8
        return ValueError(f"not valid JSON: {err}")


def _array_elements(data: bytes) -> Optional[list[tuple[int, Any]]]:
    """``(line, value)`` of each element of the one JSON array ``data`` holds, or None
    when ``data`` is not one array (NDJSON whose first line is a list). An array that
    cannot be parsed gives one ``ValueError`` at the line where it breaks."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return [(1, ValueError(f"not valid JSON: not UTF-8 ({err.reason})"))]
    try:
        whole = json.loads(text)
    except RecursionError:
        return [(1, ValueError("not valid JSON: nested too deeply"))]
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":
            return None
        line = err.lineno
        return [(line, ValueError(f"not valid JSON: {err.msg} (column {err.colno})"))]
    if not isinstance(whole, list):
        return None
    # Where each element starts: walk the array once with the decoder.
    decoder = json.JSONDecoder()
    out: list[tuple[int, Any]] = []
    pos = text.index("[") + 1
    line, counted = 1, 0
    for value in whole:
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        out.append((line, value))
        pos = decoder.raw_decode(text, pos)[1]
    return out


class _Sources:
    """``file:line`` of each row of a job, kept compactly (4 bytes a row)."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._parts: list[tuple[str, array]] = []
        self._next = 0

    def add(self, first_row: int, path: str, lines: Iterable[int]) -> None:
        if self._parts and self._parts[-1][0] == path and self._next == first_row:
            self._parts[-1][1].extend(lines)
        else:
            self._firsts.append(first_row)
            self._parts.append((path, array("I", lines)))
        self._next = self._firsts[-1] + len(self._parts[-1][1])

    def __call__(self, row: int) -> Optional[str]:
        at = bisect.bisect_right(self._firsts, row) - 1
        if at < 0:
            return None
        path, lines = self._parts[at]
        offset = row - self._firsts[at]
        return f"{path}:{lines[offset]}" if offset < len(lines) else None


def validate_files(
    paths: Iterable[Union[str, os.PathLike[str]]],
    ontology: Any = None,
    *,
    required: bool = True,
    max_mask_pixels: Optional[int] = None,
    progress: Optional[Callable[[int], None]] = None,
) -> Report:
    """Checks NDJSON files of predictions (or JSON arrays of them) as one job.

    Problems carry ``source`` = ``file:line``. ``progress(n)`` is told of every ``n``
    bytes read.
    """
    v = Validator(ontology, required=required, max_mask_pixels=max_mask_pixels)
    sources = _Sources()
    for path in paths:
        for chunk, lines, bad in _chunked(path, progress):
            if chunk:
                sources.add(v.rows, os.fspath(path), lines)
                v.check(chunk, sources=sources)
            if bad is not None:
                line, err = bad
                sources.add(v.rows, os.fspath(path), [line])
                v.add_problem(Problem(v.rows, "", str(err), UNREADABLE, source=f"{path}:{line}"))
                v.skip()
    return v.finish(sources=sources)


def _chunked(
    path: Union[str, os.PathLike[str]], progress: Optional[Callable[[int], None]]
) -> Iterator[tuple[list[Any], list[int], Optional[tuple[int, ValueError]]]]:
    """Chunks of ``(values, their lines, None)`` of a file; an unreadable line ends a
    chunk and comes as the third element."""
    chunk: list[Any] = []
    lines: list[int] = []
    for line, value in read_predictions(path, on_bytes=progress):
        if isinstance(value, ValueError):
            yield chunk, lines, (line, value)
            chunk, lines = [], []
            continue
        chunk.append(value)
        lines.append(line)
        if len(chunk) >= CHUNK_LINES:
            yield chunk, lines, None
            chunk, lines = [], []
    if chunk:
        yield chunk, lines, None
