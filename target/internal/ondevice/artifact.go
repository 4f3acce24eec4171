package ondevice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/artifact"
	"github.com/target-go/sdk/target/internal/jsonlogic"
	"github.com/target-go/sdk/target/internal/useragent"
)

// The on-device decisioning artifact: the rules Target publishes for a
// client and environment (rules.json, or its obfuscated form rules.bin),
// in the shape package artifact declares, parsed and compiled.

// ErrArtifactInvalid is the condition of an artifact that cannot be used:
// not JSON, a bad rule, an unsupported obfuscation header. Errors wrapping
// it say what is wrong.
var ErrArtifactInvalid = errors.New("target: invalid decisioning artifact")

// ErrArtifactVersion is the condition of an artifact whose major version
// this SDK does not support.
var ErrArtifactVersion = errors.New("target: unsupported decisioning artifact version")

// MaxArtifactBytes bounds what is read from an artifact location; the real
// artifacts are kilobytes to a few megabytes.
const MaxArtifactBytes = 64 << 20

// Artifact is a parsed, validated artifact. It is never modified after
// parsing, so decisions may read it concurrently while a newer one loads;
// the one thing made later, a rule's condition as traces show it, is made
// on first use and published atomically (rule.conditionForTrace).
type Artifact struct {
	raw                 []byte // the JSON it was parsed from
	version             string
	meta                map[string]any
	globalMbox          string
	geoTargetingEnabled bool
	responseTokens      map[string]bool
	geoTokens           []geoToken // the geo response tokens responseTokens lists, in geoResponseTokens' order
	remoteMboxes        []string
	localMboxes         map[string]bool
	remoteViews         []string
	localViews          map[string]bool
	mboxRules           map[string][]*rule
	viewRules           map[string][]*rule
	allViewRules        []*rule // every view's rules, in view-name order
	keyCount            int     // how many distinct rule keys (rule.keyIndex)
}

// rule is one artifact rule with its condition compiled.
type rule struct {
	key        string
	activityID string // the activity id as text, for allocation keys
	activity   int    // activityID's index among the artifact's activities
	keyIndex   int    // key's index among the artifact's rule keys
	// responseTokens are its response tokens that do not depend on the
	// request; decisions answer with copies, deep ones when
	// nestedResponseTokens (a meta value that is an object or a list).
	responseTokens       map[string]any
	nestedResponseTokens bool
	meta                 map[string]any
	propertyTokens       []string
	condition            *jsonlogic.Condition
	// conditionJSON is the condition as the artifact has it, encoded:
	// traces decode it once (conditionForTrace). The decoded tree and its
	// copy plan, made when the artifact loaded, were 11,754 of a parsed
	// suite artifact's 25,975 objects, which every collection marked
	// while no trace was asked for. encoding/json decodes its own encoding
	// of a tree it decoded into the same tree.
	conditionJSON []byte
	// traceCondition is the decoded condition and its copy plan, made by
	// the first trace that records the rule.
	traceCondition atomic.Pointer[traceCondition]
	consequence    consequence
	audienceIDs    []any
}

// traceCondition is a rule's condition as traces show it, and its copy
// plan (nil when the condition has no map or slice to copy).
type traceCondition struct {
	v    any
	plan *copyPlan
}

// conditionForTrace is r's condition as the artifact has it, and its copy
// plan, decoded and made on the first call. Two traces asking at once may
// both make them; one is kept, and they are alike.
func (r *rule) conditionForTrace() (any, *copyPlan) {
	if c := r.traceCondition.Load(); c != nil {
		return c.v, c.plan
	}
	var v any
	// The bytes are encoding/json's own encoding of a decoded value
	// (compileRules): they decode without error.
	_ = json.Unmarshal(r.conditionJSON, &v)
	c := &traceCondition{v, planCopy(v)}
	if !r.traceCondition.CompareAndSwap(nil, c) {
		c = r.traceCondition.Load()
	}
	return c.v, c.plan
}

// consequence is what a satisfied rule answers with.
type consequence struct {
	name    string
	options []option
	metrics []metric
}

// option is an artifact option with its content encoded once.
type option struct {
	Type           string
	Content        any
	EventToken     string
	ResponseTokens map[string]any
	// contentJSON is Content encoded, made once when the artifact loads;
	// nil after a macro changed Content.
	contentJSON json.RawMessage
}

// metric needs nothing beyond the artifact's shape.
type metric = artifact.Metric

// ParseArtifact parses and validates an artifact's JSON: errors wrap
// ErrArtifactInvalid or ErrArtifactVersion. Every rule's condition is
// compiled here, so a rule that could not be evaluated keeps the whole
// artifact out instead of failing decisions later.
func ParseArtifact(data []byte) (*Artifact, error) {
	var aj artifact.Document
	if err := json.Unmarshal(data, &aj); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrArtifactInvalid, describeJSONError(err))
	}
	if aj.Version == "" {
		return nil, fmt.Errorf("%w: no version", ErrArtifactInvalid)
	}
	major, err := strconv.Atoi(strings.SplitN(aj.Version, ".", 2)[0])
	if err != nil || major != artifact.SupportedMajor {
		return nil, fmt.Errorf("%w: version %q, want %d.x", ErrArtifactVersion, aj.Version, artifact.SupportedMajor)
	}
	a := &Artifact{
		raw:                 bytes.Clone(data),
		version:             aj.Version,
		meta:                aj.Meta,
		globalMbox:          aj.GlobalMbox,
		geoTargetingEnabled: aj.GeoTargetingEnabled,
		responseTokens:      setOf(aj.ResponseTokens),
		remoteMboxes:        aj.RemoteMboxes,
		localMboxes:         setOf(aj.LocalMboxes),
		remoteViews:         aj.RemoteViews,
		localViews:          setOf(aj.LocalViews),
		mboxRules:           map[string][]*rule{},
		viewRules:           map[string][]*rule{},
	}
	for _, t := range geoResponseTokens {
		if a.responseTokens[t.token] {
			a.geoTokens = append(a.geoTokens, t)
		}
	}
	if a.globalMbox == "" {
		a.globalMbox = artifact.DefaultGlobalMbox
	}
	if a.meta == nil {
		a.meta = map[string]any{}
	}
	if aj.Rules == nil {
		return a, nil
	}
	for name, rules := range aj.Rules.Mboxes {
		compiled, err := compileRules("mbox", name, rules)
		if err != nil {
			return nil, err
		}
		a.mboxRules[name] = compiled
	}
	for name, rules := range aj.Rules.Views {
		compiled, err := compileRules("view", name, rules)
		if err != nil {
			return nil, err
		}
		a.viewRules[name] = compiled
	}
	// A request for "all views" walks them in the artifact's order, as
	// Adobe's engines do (a JavaScript object keeps its keys in order): the
	// first view to match comes first in the answer.
	for _, name := range viewOrder(data, a.viewRules) {
		a.allViewRules = append(a.allViewRules, a.viewRules[name]...)
	}
	a.indexActivities()
	a.indexKeys()
	a.eachRule(func(r *rule) {
		r.responseTokens = ruleResponseTokenBase(r.meta, a.responseTokens)
		r.nestedResponseTokens = hasNestedValue(r.responseTokens)
	})
	return a, nil
}

// viewOrder lists the view names of rules.views in the order the artifact
// writes them; names it cannot place (it always can, for JSON that parsed)
// follow in sorted order.
func viewOrder(data []byte, views map[string][]*rule) []string {
	var order []string
	names, _ := artifact.ViewOrder(data) // data parsed as a Document already
	for _, name := range names {
		if _, ok := views[name]; ok {
			order = append(order, name)
		}
	}
	var rest []string
	for name := range views {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

func compileRules(kind, name string, rules []artifact.Rule) ([]*rule, error) {
	out := make([]*rule, 0, len(rules))
	for i, rj := range rules {
		cond, err := jsonlogic.Compile(rj.Condition)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q rule %d: %w", ErrArtifactInvalid, kind, name, i, err)
		}
		// A decoded value always encodes; the check keeps a failure from
		// passing unseen.
		conditionJSON, err := json.Marshal(rj.Condition)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q rule %d: condition: %w", ErrArtifactInvalid, kind, name, i, err)
		}
		meta := rj.Meta
		if meta == nil {
			meta = map[string]any{}
		}
		activity := rj.ActivityID
		if activity == nil {
			activity = meta["activity.id"]
		}
		key := ""
		if rj.RuleKey != nil {
			key = jsonlogic.String(rj.RuleKey)
		}
		var audiences []any
		if ids, ok := meta["audience.ids"].([]any); ok {
			audiences = ids
		}
		var options []option
		if rj.Consequence.Options != nil {
			options = make([]option, len(rj.Consequence.Options))
		}
		for i, src := range rj.Consequence.Options {
			o := option{Type: src.Type, Content: src.Content, EventToken: src.EventToken, ResponseTokens: src.ResponseTokens}
			if o.Content != nil {
				b, err := delivery.Marshal(o.Content)
				if err != nil {
					return nil, fmt.Errorf("%w: %s %q rule %d: %w", ErrArtifactInvalid, kind, name, i, err)
				}
				o.contentJSON = b
			}
			options[i] = o
		}
		out = append(out, &rule{
			key:            key,
			activityID:     jsonlogic.String(activity),
			meta:           meta,
			propertyTokens: rj.PropertyTokens,
			condition:      cond,
			conditionJSON:  conditionJSON,
			audienceIDs:    audiences,
			consequence: consequence{
				name:    rj.Consequence.Name,
				options: options,
				metrics: rj.Consequence.Metrics,
			},
		})
	}
	return out, nil
}

// indexActivities numbers the activities, so that a decision can find the
// allocations it computed by number (decider.allocation).
func (a *Artifact) indexActivities() {
	index := map[string]int{}
	a.eachRule(func(r *rule) {
		i, ok := index[r.activityID]
		if !ok {
			i = len(index)
			index[r.activityID] = i
		}
		r.activity = i
	})
}

// indexKeys numbers the rule keys, so that a decision can tell the keys
// that already answered with a bit set (decider.matchedSet) rather than a
// map of strings.
func (a *Artifact) indexKeys() {
	index := map[string]int{}
	a.eachRule(func(r *rule) {
		i, ok := index[r.key]
		if !ok {
			i = len(index)
			index[r.key] = i
		}
		r.keyIndex = i
	})
	a.keyCount = len(index)
}

// eachRule calls f with every rule, once.
func (a *Artifact) eachRule(f func(*rule)) {
	for _, rules := range a.mboxRules {
		for _, r := range rules {
			f(r)
		}
	}
	for _, rules := range a.viewRules {
		for _, r := range rules {
			f(r)
		}
	}
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// obfuscationHeaderSize is the length of the rules.bin header: a
// "prefix:version" field in the first 8 bytes, then the key.
const obfuscationHeaderSize = 40

// supportedObfuscationVersion is the rules.bin header version understood.
const supportedObfuscationVersion = 1

// Deobfuscate turns rules.bin into the artifact's JSON. The body is
// XORed with the organization id followed by the key from the header; this
// hides the rules from casual readers and is no security boundary.
func Deobfuscate(data []byte, organizationID string) ([]byte, error) {
	if len(data) < obfuscationHeaderSize {
		return nil, fmt.Errorf("%w: obfuscated artifact shorter than its header", ErrArtifactInvalid)
	}
	header := string(data[:obfuscationHeaderSize])
	// The version is read as JavaScript's parseInt reads it: leading
	// digits, whatever pads the field after them.
	_, version, _ := strings.Cut(header[:8], ":")
	if useragent.MajorVersion(version) != supportedObfuscationVersion {
		return nil, fmt.Errorf("%w: obfuscation header version %q", ErrArtifactInvalid, version)
	}
	key := []byte(organizationID + header[8:])
	body := data[obfuscationHeaderSize:]
	out := make([]byte, len(body))
	for i, b := range body {
		out[i] = b ^ key[i%len(key)]
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("%w: obfuscated artifact does not decode to JSON (wrong organization id?)", ErrArtifactInvalid)
	}
	return out, nil
}

// Version is the artifact's version, "1.x.y".
func (a *Artifact) Version() string { return a.version }

// Meta is the artifact's meta object, for traces. The caller must not
// modify it.
func (a *Artifact) Meta() map[string]any { return a.meta }

// GeoTargetingEnabled reports whether rules target on geo: a request
// without geo data then needs the engine's geo lookup.
func (a *Artifact) GeoTargetingEnabled() bool { return a.geoTargetingEnabled }
