// Package artifact declares the JSON shape of Target's on-device
// decisioning artifact (rules.json), the one declaration read by the
// on-device engine's parser and written by the local edge (targettest).
//
// Source of truth: the artifacts Target publishes and Adobe's decisioning
// engines read (the conformance suite's schema/artifact.json is a real
// one). Fields the engine reads loosely stay loose here: a rule key and an
// activity id may be strings or numbers, a condition is any json-logic
// value, option content any JSON value. Decoding keeps every value;
// validating and compiling them is the engine's job.
package artifact

// SupportedMajor is the artifact format version this SDK reads and writes
// (version "1.x.y"); an artifact of another major version is refused.
const SupportedMajor = 1

// Version is the version the local edge writes.
const Version = "1.0.0"

// DefaultGlobalMbox names the mbox that carries page-load decisions when
// the artifact does not name one.
const DefaultGlobalMbox = "target-global-mbox"

// Document is an artifact.
type Document struct {
	Version             string         `json:"version"`
	Meta                map[string]any `json:"meta"`
	GlobalMbox          string         `json:"globalMbox"`
	GeoTargetingEnabled bool           `json:"geoTargetingEnabled"`
	// ResponseTokens lists the response tokens options carry.
	ResponseTokens []string `json:"responseTokens"`
	// RemoteMboxes and RemoteViews need the edge (server-side data);
	// LocalMboxes and LocalViews can be decided from the rules.
	RemoteMboxes []string `json:"remoteMboxes"`
	LocalMboxes  []string `json:"localMboxes"`
	RemoteViews  []string `json:"remoteViews"`
	LocalViews   []string `json:"localViews"`
	Rules        *Rules   `json:"rules"`
}

// Rules are the rules of each mbox and each view, by name, in evaluation
// order.
type Rules struct {
	Mboxes map[string][]Rule `json:"mboxes"`
	Views  map[string][]Rule `json:"views"`
}

// Rule is one activity experience's targeting: when Condition holds for a
// visitor, Consequence is the answer.
type Rule struct {
	RuleKey    any            `json:"ruleKey"`    // a string or a number
	ActivityID any            `json:"activityId"` // a number or a string; meta's "activity.id" when absent
	Meta       map[string]any `json:"meta"`
	// Condition is json-logic, as json-logic-js reads it.
	Condition   any         `json:"condition"`
	Consequence Consequence `json:"consequence"`
	// PropertyTokens limits the rule to these properties; none means every
	// property.
	PropertyTokens []string `json:"propertyTokens,omitempty"`
}

// Consequence is a satisfied rule's answer.
type Consequence struct {
	Name    string   `json:"name"`
	Options []Option `json:"options"`
	Metrics []Metric `json:"metrics"`
}

// Option is an offer: Content is any JSON value (html and redirect
// content is a string, json content an object, actions a list).
type Option struct {
	Type           string         `json:"type,omitempty"`
	Content        any            `json:"content,omitempty"`
	EventToken     string         `json:"eventToken,omitempty"`
	ResponseTokens map[string]any `json:"responseTokens,omitempty"`
}

// Metric is an event the answer reports with its token: display or click.
type Metric struct {
	Type       string `json:"type,omitempty"`
	Selector   string `json:"selector,omitempty"`
	EventToken string `json:"eventToken,omitempty"`
}
