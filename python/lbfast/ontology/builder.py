"""The ontology builder of the SDK (``labelbox.OntologyBuilder`` and friends).

The guide's code runs with ``import lbfast as lb``; ``asdict()`` gives the same dict,
key for key:

    builder = lb.OntologyBuilder(
        tools=[lb.Tool(tool=lb.Tool.Type.BBOX, name="car")],
        classifications=[lb.Classification(
            class_type=lb.Classification.Type.RADIO, name="weather",
            options=[lb.Option(value="sunny"), lb.Option(value="rain")])],
    )
"""

from __future__ import annotations

import colorsys
import warnings
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional, Union

from lbfast.ontology.loading import OntologyLike, normalized_of, unwrap


class InconsistentOntologyException(ValueError):
    """An ontology that cannot be built: a duplicate name, a question without options."""


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
        dictionary = unwrap(dictionary)
        return cls(
            tools=[Tool.from_dict(t) for t in dictionary.get("tools") or []],
            classifications=[
                Classification.from_dict(c) for c in dictionary.get("classifications") or []
            ],
        )

    @classmethod
    def from_ontology(cls, ontology: OntologyLike) -> OntologyBuilder:
        """From an SDK ``Ontology`` (its ``normalized``) or an :class:`Ontology`."""
        return cls.from_dict(normalized_of(ontology)[0])

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
