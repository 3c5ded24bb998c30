//! The ontology as described: tools, questions and options, nested to any depth.

/// What every feature has: the name predictions use (an option's `value`), and the
/// ids Labelbox assigned when the ontology was created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureSpec {
    pub name: String,
    /// The feature schema id, which a prediction's `schemaId` refers to.
    pub schema_id: Option<String>,
    /// The schema node id (the feature's place in this ontology); only used to
    /// recognise it when given by mistake as a `schemaId`.
    pub node_id: Option<String>,
    pub required: bool,
    pub archived: bool,
}

impl FeatureSpec {
    pub fn named(name: impl Into<String>) -> Self {
        FeatureSpec { name: name.into(), ..Self::default() }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolSpec {
    /// The ontology's tool type: `rectangle`, `polygon`, `raster-segmentation`, ...
    pub kind: String,
    pub feature: FeatureSpec,
    pub classifications: Vec<QuestionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionSpec {
    /// `radio`, `checklist`, `text`, ...
    pub kind: String,
    pub feature: FeatureSpec,
    pub options: Vec<OptionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionSpec {
    /// `feature.name` is the option's `value`, which answers use as their name.
    pub feature: FeatureSpec,
    pub classifications: Vec<QuestionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OntologySpec {
    pub tools: Vec<ToolSpec>,
    pub classifications: Vec<QuestionSpec>,
}
