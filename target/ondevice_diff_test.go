package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// TestOnDeviceDifferential is a differential fuzzer: it decides generated
// requests with this client's on-device engine and with Adobe's Node.js SDK
// 2.4.3 (on-device, from the same artifact, no network), and requires the
// same answer: the same status, the same execute and prefetch content in
// the same shape ("[]" where Node writes "[]"), the same remote mboxes and
// views, and the same geo lookups. Inputs where Adobe's engine is known to
// be wrong are listed in engineKeptDifferences and counted apart.
//
// Every input is also decided several times by the Go engine, which must
// answer the same each time (decisions are deterministic).
//
// It runs every artifact of the conformance suite, the large one, and
// artifacts derived from them (campaign macros in every kind of offer,
// clock rules around now, and a probe artifact whose rules read every
// context field). It needs TARGET_SDK_TESTING_DIR, TARGET_NODE_SDK_DIR (a
// node_modules directory holding @adobe/target-nodejs-sdk, see
// testdata/node) and node on PATH. TARGET_DIFF_SCALE multiplies the number
// of inputs per artifact (default 1: about 5,000 inputs in all, a quarter
// of that under the race detector, which slows decisions tenfold) and
// TARGET_DIFF_SEED changes the seed, for longer runs:
//
//	TARGET_DIFF_SCALE=20 TARGET_DIFF_SEED=7 go test ./target -run OnDeviceDifferential -timeout 1h
func TestOnDeviceDifferential(t *testing.T) {
	dir := suiteDir(t)
	nodeModules := os.Getenv("TARGET_NODE_SDK_DIR")
	if nodeModules == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set; see testdata/node to install Adobe's Node.js SDK")
	}
	_, err := os.Stat(filepath.Join(nodeModules, "@adobe", "target-nodejs-sdk", "package.json"))
	require.NoError(t, err, "TARGET_NODE_SDK_DIR holds no @adobe/target-nodejs-sdk")
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed for the differential test")
	scale := envInt(t, "TARGET_DIFF_SCALE", 1)
	seed := uint64(envInt(t, "TARGET_DIFF_SEED", 15))

	artifacts := diffArtifacts(t, dir, time.Now())
	var mu sync.Mutex
	total := diffCounts{byClass: map[string]int{}}
	ran := 0 // subtests that ran to the end
	t.Cleanup(func() {
		t.Logf("%d artifacts, %d inputs, %d with content; differences: %s",
			len(artifacts), total.inputs, total.withContent, total.summary())
		// The comparison must be about content, not about empty answers.
		require.Greater(t, total.withContent, total.inputs/8, "too few inputs got content")
		failed := t.Failed()
		for _, k := range engineKeptDifferences {
			used := total.byClass["kept:"+k.name]
			t.Logf("kept %q: %d inputs (%s)", k.name, used, k.reason)
			// A row no input needs is a row that could hide anything: the
			// default run must exercise each (the generator sends its
			// hazard), unless the row says it may not. Under the race
			// detector the run decides a quarter of the inputs: not the
			// default run, and some rows' hazards fall outside it.
			if used == 0 && !k.seedDependent && ran == len(artifacts) && scale == 1 && seed == 15 && !target.RaceDetector && !failed {
				t.Errorf("kept %q accounts for no input over the default run", k.name)
			}
		}
	})
	for i, a := range artifacts {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			n := a.inputs * scale
			if target.RaceDetector {
				n = (n + 3) / 4
			}
			requests := newDiffGen(t, a.data, seed*1000+uint64(i)).requests(n)
			c := runDiff(t, node, nodeModules, a, requests)
			mu.Lock()
			total.add(c)
			ran++
			mu.Unlock()
		})
	}
}

type diffArtifact struct {
	name   string
	data   []byte
	inputs int
	// nodeReads is the artifact as Adobe's engine reads it
	// (nodeReadsArtifact), nil when it reads it as this one does.
	nodeReads []byte
}

// diffArtifacts are the suite's artifacts that hold rules, the large one,
// and the derived ones.
func diffArtifacts(t *testing.T, dir string, now time.Time) []diffArtifact {
	files, err := filepath.Glob(filepath.Join(dir, "schema", "artifacts", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []diffArtifact
	byName := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		byName[name] = data
		var a map[string]any
		require.NoError(t, json.Unmarshal(data, &a), name)
		if rules, _ := a["rules"].(map[string]any); len(rules) == 0 {
			continue // blank and unsupported artifacts decide nothing
		}
		out = append(out, diffArtifact{name: name, data: data, inputs: 200})
	}
	big, err := os.ReadFile(filepath.Join(dir, "schema", "artifact.json"))
	require.NoError(t, err)
	out = append(out, diffArtifact{name: "artifact", data: big, inputs: 300})
	for _, base := range []string{"TEST_ARTIFACT_CAMPAIGN_MACROS", "TEST_ARTIFACT_PAGELOAD_VEC_AB", "TEST_ARTIFACT_VIEWS", "TEST_ARTIFACT_AB_SIMPLE"} {
		data, ok := byName[base]
		require.True(t, ok, "the suite has no %s", base)
		out = append(out, diffArtifact{name: "macros_" + base, data: withMacros(t, data), inputs: 200})
	}
	for _, base := range []string{"TEST_ARTIFACT_AB_SIMPLE", "TEST_ARTIFACT_PAGELOAD_VEC_XT"} {
		out = append(out, diffArtifact{name: "clock_" + base, data: withClockRules(t, byName[base], now), inputs: 200})
	}
	out = append(out, diffArtifact{name: "probe", data: probeArtifact(t, byName["TEST_ARTIFACT_AB_SIMPLE"]), inputs: 80})
	for _, base := range []string{"TEST_ARTIFACT_AB_SIMPLE", "TEST_ARTIFACT_PAGELOAD_VEC_AB"} {
		out = append(out, diffArtifact{name: "protoread_" + base, data: withProtoReads(t, byName[base]), inputs: 120})
	}
	for i := range out {
		out[i].nodeReads = nodeReadsArtifact(t, out[i].data)
	}
	return out
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s must be a number", name)
	require.Positive(t, n, "%s must be positive", name)
	return n
}

// diffCounts counts inputs and differences by class.
type diffCounts struct {
	inputs, withContent int
	byClass             map[string]int
}

func (c *diffCounts) add(o diffCounts) {
	c.inputs += o.inputs
	c.withContent += o.withContent
	for k, v := range o.byClass {
		c.byClass[k] += v
	}
}

func (c *diffCounts) summary() string {
	if len(c.byClass) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(c.byClass))
	for k := range c.byClass {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, c.byClass[k])
	}
	return b.String()
}

// engineKeptDifference is a class of inputs on which this engine knowingly
// answers otherwise than Adobe's, because Adobe's answer is wrong.
type engineKeptDifference struct {
	name, reason string
	// A row has one of applies, explains and readAs. applies reports the
	// inputs of the class, and so hides any other difference in them: it
	// is kept only where no precise form exists (a comment on the row says
	// why). A row where one side fails the call is an explains that
	// requires that side's error (refusedHere, nodeFails). explains reports whether the class accounts for every
	// difference between Node's answer and this client's. readAs is the
	// request as this client reads it (nil when the row does not apply):
	// Node's answer on it must be this client's answer on the request, so
	// the difference is exactly the reading.
	applies  func(req map[string]any) bool
	explains func(req, node, got map[string]any) bool
	readAs   func(req map[string]any) map[string]any
	// nodeSees is the request as Adobe's engine in effect decides it (nil
	// when the row does not apply): this client's answer on it must be
	// Node's answer on the request, the reverse of readAs, for a reading
	// JavaScript gives that no request spells (a parameter named
	// __proto__ is no property). artifactAs marks the row of the
	// artifact's rules as Adobe's engine reads them (nodeReadsArtifact):
	// with nodeSees, the answer compared is this client's on that
	// artifact, and the row counts when that artifact changes the answer.
	nodeSees   func(req map[string]any) map[string]any
	artifactAs bool
	// seedDependent marks a row the default run may not exercise; every
	// other row must account for at least one input over the default run.
	seedDependent bool
}

var engineKeptDifferences = []engineKeptDifference{
	{
		name: "prototype mbox names",
		reason: "Adobe's engine looks rules up in plain JavaScript objects, so an mbox or view named like an " +
			"Object.prototype member (constructor, toString, __proto__...) finds that member instead of " +
			"rules and the call fails; here such a name is a name like any other",
		explains: func(req, node, _ map[string]any) bool {
			return nodeFails(node) &&
				slices.ContainsFunc(requestedNames(req), func(n string) bool { return jsPrototypeNames[n] })
		},
	},
	{
		name: "prototype-name macros",
		reason: "Adobe's engine looks a campaign macro up in plain JavaScript objects, so ${mbox.constructor}, " +
			"${toString} or ${mbox.__proto__} find an Object.prototype member and write its text " +
			"(\"function Object() { [native code] }\", \"[object Object]\") into the offer; here such a " +
			"name is a name like any other: a parameter of that name, or the macro left as written",
		explains: func(_, node, got map[string]any) bool {
			b, err := json.Marshal(got)
			if err != nil {
				return false
			}
			text := diffMacroPattern.ReplaceAllStringFunc(string(b), func(m string) string {
				if js, ok := jsPrototypeText[nodeMacroKey(m[2:len(m)-1])]; ok {
					return js
				}
				return m
			})
			if text == string(b) {
				return false
			}
			var normalised map[string]any
			return json.Unmarshal([]byte(text), &normalised) == nil && equalJSON(node, normalised)
		},
	},
	{
		name: "parts that ask for nothing",
		reason: "Adobe's SDK refuses a request whose execute or prefetch asks for nothing ({}, empty lists), " +
			"even beside a part that asks for something, and answers one whose part holds only nulls " +
			"without that part; here a part is read as JSON reads it (null is absent), a part that asks " +
			"for nothing is answered empty, and a request needs one part that asks for something, " +
			"on-device as server-side",
		// applies: Adobe's SDK refuses some of these inputs and answers others with a part left out;
		// neither side's answer is one request read otherwise, so no readAs or nodeSees spells it.
		applies: func(req map[string]any) bool {
			for _, part := range []string{"execute", "prefetch"} {
				p, ok := req[part].(map[string]any)
				if !ok {
					continue
				}
				if p["pageLoad"] != nil {
					continue
				}
				if l, _ := p["mboxes"].([]any); len(l) > 0 {
					continue
				}
				if l, _ := p["views"].([]any); part == "prefetch" && len(l) > 0 {
					continue
				}
				return true
			}
			return false
		},
	},
	{
		name: "array and object parameters",
		reason: "the Delivery API defines parameter values as strings, and JavaScript's String() of an " +
			"array or object (\"a,1\", \"[object Object]\") is not a value anyone means; Adobe's engine " +
			"puts them into the rule context as they are, here the request is refused with an error " +
			"naming the parameter",
		explains: func(req, _, got map[string]any) bool { return refusedHere(got) && hasParameter(req, isComposite) },
	},
	{
		name: "typed parameters",
		// Only a rule that reads a typed parameter's type (an "_lc" twin,
		// false == "", a macro of null) shows a difference, and with the
		// wider set of hazards not every seed has one.
		seedDependent: true,
		reason: "the Delivery API defines parameter values as strings and the edge compares their text; " +
			"the client reads a JSON number or boolean as the text JavaScript's String() makes of it, and " +
			"null as \"\" (as any string field), where Adobe's engine keeps the JSON value, so a number has " +
			"no \"_lc\" twin, false == \"\" holds and a ${mbox.x} macro of null writes \"null\"",
		readAs: func(req map[string]any) map[string]any {
			if !hasParameter(req, isTyped) {
				return nil
			}
			out := copyRequest(req)
			for _, d := range requestDetails(out) {
				for _, k := range []string{"parameters", "profileParameters"} {
					keys, p := paramsOf(d, k)
					for i, name := range keys {
						v := p[name]
						if isTyped(v) {
							// A dotted name under it replaces it here, and
							// fails Adobe's engine if the text is truthy
							// (a kept row of its own): "" reads the same
							// here and is replaced there too.
							if slices.ContainsFunc(keys[i+1:], func(k string) bool {
								return strings.HasPrefix(k, name+".") && expandable(k)
							}) {
								p[name] = ""
								continue
							}
							switch x := v.(type) {
							case nil:
								p[name] = ""
							case int:
								p[name] = jsonlogic.String(float64(x))
							default:
								p[name] = jsonlogic.String(x)
							}
						}
					}
				}
			}
			return out
		},
	},
	{
		name: "dotted names under a parameter",
		reason: "parameters \"a\": \"x\" and then \"a.b\": \"y\" make Adobe's engine set a property on the " +
			"string \"x\", a TypeError that fails the whole call; here the dotted name wins, a becomes " +
			"an object holding b",
		explains: func(req, node, _ map[string]any) bool {
			return nodeFails(node) && hasNamePair(req, func(prefix, dotted int, vals map[string]any, p string) bool {
				return prefix < dotted && jsTruthyValue(vals[p])
			})
		},
	},
	{
		name: "names whose meaning depends on their order",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "JSON objects are unordered (RFC 8259 section 4), and a Go map has no order: a decision " +
			"must not depend on the order of the names in the request. Adobe's engine builds the mbox " +
			"context in text order, so \"a.b\" before \"a\" leaves a the string (the later name " +
			"wins), and \"x_lc\" before \"x\" makes x_lc_lc the given x_lc lower-cased; here the " +
			"context is the one Adobe's engine builds from the order the client itself writes (sorted), " +
			"whatever the order: the dotted name wins over its prefix and x_lc_lc is x lower-cased twice",
		// applies: the context Adobe's engine builds from text order (a.b then a, x_lc then x) is no
		// request either client could be given in another order without changing the names it holds.
		applies: func(req map[string]any) bool {
			return hasNamePair(req, func(prefix, dotted int, _ map[string]any, _ string) bool { return dotted < prefix }) ||
				hasLowerCasePairReversed(req)
		},
	},
	{
		name: "mbox requests without a name",
		// Under the race detector the run decides a quarter of the
		// inputs, and not every seed then has one.
		seedDependent: true,
		reason: "the Delivery API requires an mbox's name, and the client refuses a request without one " +
			"before deciding it, on-device as server-side; Adobe's engine answers it",
		explains: func(req, _, got map[string]any) bool {
			if !refusedHere(got) {
				return false
			}
			for _, part := range []string{"execute", "prefetch"} {
				p, _ := req[part].(map[string]any)
				items, _ := p["mboxes"].([]any)
				for _, it := range items {
					if m, ok := it.(map[string]any); ok && m["name"] == "" {
						return true
					}
				}
			}
			return false
		},
	},
	{
		name: "www-prefixed host labels",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "Adobe's engine drops the first four characters of any subdomain starting with \"www\" " +
			"(www2.example.com has subdomain \"\", wwwshop.example.com \"op\"); only a \"www\" label " +
			"is not a subdomain",
		// applies: the subdomain Adobe's engine computes (four characters dropped) is no URL's split, so
		// no request spells what it reads.
		applies: func(req map[string]any) bool {
			return anyHost(req, func(h string) bool {
				first, _, _ := strings.Cut(strings.ToLower(h), ".")
				return strings.HasPrefix(first, "www") && first != "www"
			})
		},
	},
	{
		name: "upper-case hosts",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "host names are case-insensitive (RFC 3986 section 3.2.2); Adobe's engine keeps a host " +
			"the Public Suffix List does not cover (LOCALHOST, Foo.Local) as given, so its page.domain fails " +
			"a rule on the lower-case name",
		// applies: lower-casing the host in the request would also change page.url, which rules read
		// with its case as given, so no request spells what Adobe's engine reads.
		applies: func(req map[string]any) bool {
			return anyHost(req, func(h string) bool { return slices.Contains(hazardHosts["upper"], h) })
		},
	},
	{
		name: "'@' in a path",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "Adobe's URL parser takes everything up to an '@' anywhere in the URL as user " +
			"information, so https://example.com/a@b has host \"b\" and path \"\"; '@' is a path " +
			"character (RFC 3986 section 3.3), and here user information ends with the authority",
		// applies: the host "b" with path "" that Adobe's parser reads is no URL of the same page, so no
		// request spells it.
		applies: func(req map[string]any) bool {
			for _, u := range requestURLs(req) {
				_, rest, ok := strings.Cut(u, "://")
				if !ok {
					continue
				}
				if i := strings.IndexAny(rest, "/?#"); i >= 0 && strings.Contains(rest[i:], "@") {
					return true
				}
			}
			return false
		},
	},
	{
		name: "several '@' before the host",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "Adobe's URL parser ends user information at the first '@', so https://a@b@example.com/ has " +
			"host \"b@example.com\", not a host name, and page.domain is that text; the URL standard " +
			"(WHATWG, section 4.4, authority state) and every browser end it at the last '@', so the page " +
			"is on example.com, as here",
		// applies: the host "b@example.com" that Adobe's parser reads is no valid URL's host, so no
		// request spells it.
		applies: func(req map[string]any) bool {
			for _, u := range requestURLs(req) {
				_, rest, ok := strings.Cut(u, "://")
				if !ok {
					continue
				}
				if i := strings.IndexAny(rest, "/?#"); i >= 0 {
					rest = rest[:i]
				}
				if strings.Count(rest, "@") > 1 {
					return true
				}
			}
			return false
		},
	},
	{
		name: "user agents over 2 KiB",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "the browser and platform patterns read the first 2 KiB of a user agent (or brand list) only: " +
			"their cost grows with the text (about 0.4 µs a byte here, 2 ms for a hostile 2 KiB one, " +
			"BenchmarkDetectHostile) and the text is the visitor's to choose; a token past 2 KiB is not " +
			"seen here and is in Adobe's engine. No browser sends a user agent near that size",
		readAs: func(req map[string]any) map[string]any {
			var out map[string]any
			for _, k := range []string{"userAgent", "clientHints.browserUAWithFullVersion", "clientHints.browserUAWithMajorVersion"} {
				obj, _ := req["context"].(map[string]any)
				field := k
				if outer, inner, ok := strings.Cut(k, "."); ok {
					obj, _ = obj[outer].(map[string]any)
					field = inner
				}
				if v, _ := obj[field].(string); len(v) > 2048 {
					if out == nil {
						out = copyRequest(req)
					}
					o, _ := out["context"].(map[string]any)
					if outer, _, ok := strings.Cut(k, "."); ok {
						o, _ = o[outer].(map[string]any)
					}
					o[field] = v[:2048]
				}
			}
			return out
		},
	},
	{
		name: "geo and client hint fields of another JSON type",
		reason: "the Delivery API defines geo's city, countryCode and stateCode and the platform client " +
			"hint as strings and the coordinates as numbers; Adobe's engine gives rules whatever JSON " +
			"value came (geo.city 5, geo.latitude true or {\"a\":1}, 1e400 as Infinity), here the request " +
			"is refused with an error naming the field, as any field of the wrong type",
		explains: func(req, _, got map[string]any) bool {
			if !refusedHere(got) {
				return false
			}
			c, _ := req["context"].(map[string]any)
			geo, _ := c["geo"].(map[string]any)
			for _, k := range []string{"city", "countryCode", "stateCode"} {
				if v, ok := geo[k]; ok && v != nil {
					if _, str := v.(string); !str {
						return true
					}
				}
			}
			for _, k := range []string{"latitude", "longitude"} {
				switch geo[k].(type) {
				case bool, map[string]any, json.Number:
					return true
				}
			}
			h, _ := c["clientHints"].(map[string]any)
			if v, ok := h["platform"]; ok && v != nil {
				if _, str := v.(string); !str {
					return true
				}
			}
			return false
		},
	},
	{
		name: "host labels punycode cannot encode",
		reason: "punycode's encoder (RFC 3492 section 6.4) fails with \"Overflow\" when a label's deltas pass " +
			"2^31-1, as 2,100 'a' and U+10FFFD do, and Adobe's engine fails the call; such a label is far " +
			"over 63 characters, so here the host is not a host name and is all domain, as any other too long",
		explains: func(req, node, _ map[string]any) bool {
			return nodeFails(node) && anyHost(req, func(h string) bool {
				return slices.ContainsFunc(strings.FieldsFunc(strings.ToLower(h), func(r rune) bool {
					return r == '.' || r == '\u3002' || r == '\uff0e' || r == '\uff61'
				}), punycodeOverflows)
			})
		},
	},
	{
		name: "browser versions past float64",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "a major version of 309 digits or more is Infinity to Adobe's engine and the largest float64 " +
			"here (a trace, JSON, cannot carry an infinity); the two compare alike with every other number, " +
			"not with the largest float64 itself or the text \"Infinity\". No browser sends such a version",
		// applies: Infinity is no version a user agent can spell for Adobe's engine other than by these
		// digits, and the largest float64 is none either.
		applies: func(req map[string]any) bool {
			c, _ := req["context"].(map[string]any)
			ua, _ := c["userAgent"].(string)
			h, _ := c["clientHints"].(map[string]any)
			full, _ := h["browserUAWithFullVersion"].(string)
			major, _ := h["browserUAWithMajorVersion"].(string)
			return longDigitRun.MatchString(ua + " " + full + " " + major)
		},
	},
	{
		name: "IPv6 hosts",
		// Under the race detector the run decides a quarter of the
		// inputs, and not every seed then has one.
		seedDependent: true,
		reason: "Adobe's URL parser ends the host at the first ':' of an IPv6 literal ([2001:db8::1] " +
			"becomes \"[2001\"); the host here is the address",
		// applies: the host "[2001" that Adobe's parser reads is no URL's host, so no request spells it.
		applies: func(req map[string]any) bool {
			return anyHost(req, func(h string) bool { return strings.HasPrefix(h, "[") })
		},
	},
	{
		name: "prototype platform hints",
		reason: "Adobe's engine maps the platform client hint through a plain JavaScript object, so a hint " +
			"named like an Object.prototype member (constructor, toString, __proto__...) becomes that member " +
			"(a function, or Object.prototype) in user.platform; here it is a platform nobody knows, kept as " +
			"given. Checked as Node's answer on the request with the hint replaced by an unknown name of the " +
			"same length (no rule names either)",
		readAs: func(req map[string]any) map[string]any {
			c, _ := req["context"].(map[string]any)
			h, _ := c["clientHints"].(map[string]any)
			p, _ := h["platform"].(string)
			if !jsPrototypeNames[p] {
				return nil
			}
			out := copyRequest(req)
			out["context"].(map[string]any)["clientHints"].(map[string]any)["platform"] = strings.Repeat("z", len(p))
			return out
		},
	},
	{
		name: "parameters named __proto__",
		reason: "JavaScript's assignment of a \"__proto__\" property sets the object's prototype (and ignores " +
			"a text), so Adobe's engine drops an mbox parameter of that name and its \"_lc\" twin from the " +
			"rule context, and a rule or macro reading mbox.__proto__ finds Object.prototype; here it is a " +
			"parameter like any other (constructor and toString are ordinary names to both). Checked as this " +
			"client's answer on the request without such parameters",
		nodeSees: func(req map[string]any) map[string]any {
			if !hasParameterName(req, "__proto__") {
				return nil
			}
			out := copyRequest(req)
			for _, d := range requestDetails(out) {
				if o, ok := d["parameters"].(*orderedObject); ok {
					o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return k == "__proto__" })
					delete(o.vals, "__proto__")
				}
			}
			return out
		},
	},
	{
		name: "rules reading Object.prototype members",
		reason: "json-logic's var walks plain JavaScript objects in Adobe's engine, so a rule reading " +
			"mbox.toString, user.constructor or a top-level toString finds an Object.prototype member (true " +
			"for every request) where the context holds no such value; here a name the context does not hold " +
			"is null. Checked as this client's answer with each such read replaced by the member's " +
			"String() text (nodeReadsArtifact), on rules whose operations cannot tell the two apart",
		artifactAs: true,
	},
	{
		name: "names given twice",
		reason: "a JSON object holding a name twice (two \"context\" objects, a parameter twice) is read " +
			"last-wins by Adobe's SDK (JSON.parse) and merged field by field by encoding/json: one value is " +
			"lost without a word either way, so here the request is refused with an error naming the place " +
			"(delivery.DuplicateNameError), as encoding/json/v2 does",
		explains: func(req, _, got map[string]any) bool {
			msg, _ := got["error"].(string)
			return strings.Contains(msg, "json: duplicate name") && hasDuplicateMark(req)
		},
	},
	{
		name: "lone surrogates",
		reason: "a JSON string may escape a lone UTF-16 surrogate (\"\\ud800\", an unpaired \"\\udc00\", in " +
			"values and names); JavaScript keeps it, a Go string is UTF-8 and encoding/json reads it as " +
			"U+FFFD. Checked as Node's answer on the request with each lone surrogate replaced by U+FFFD",
		readAs: func(req map[string]any) map[string]any {
			b, err := json.Marshal(req)
			if err != nil || !bytes.ContainsAny(b, "\ue000\ue001\ue002") {
				return nil
			}
			return mapStrings(req, func(s string) string {
				return strings.NewReplacer("\ue000", "\ufffd", "\ue001", "\ufffd", "\ue002", "\ufffd").Replace(s)
			}).(map[string]any)
		},
	},
	// The next three are the hazards ondevice_diffgen2_test.go adds to the generator.
	{
		name: "Public Suffix List versions",
		// The generator sends the hazard, but only a rule reading the field
		// it changes shows a difference: not every seed has one.
		seedDependent: true,
		reason: "Adobe's engine bundles an old copy of the Public Suffix List, the client uses " +
			"golang.org/x/net/publicsuffix (maintained, current; the version go.mod pins): a host whose " +
			"suffix is in one list only (shop.nom.ad, a.b.hf.space) has another page.domain, subdomain " +
			"and topLevelDomain (and the referring URL's), and rules on them decide otherwise; only " +
			"ASCII hosts whose suffix differs between the two lists are covered",
		// A page's domain changes decisions and remote dependencies, never
		// an error or a geo lookup.
		explains: func(req, node, got map[string]any) bool {
			return anyHost(req, pslSuffixesDiffer) && equalJSON(node["error"], got["error"]) &&
				equalJSON(node["geoLookups"], got["geoLookups"])
		},
	},
	{
		name: "mbox names null",
		reason: "as for mbox requests without a name: the Delivery API requires an mbox's name, a JSON " +
			"null is no name, and the client refuses the request before deciding it; Adobe's engine answers it",
		explains: func(req, _, got map[string]any) bool { return refusedHere(got) && hasNullMboxName(req) },
	},
	{
		name: "duplicate mbox indexes",
		reason: "an mbox's index correlates the request with the response and the spec says it should be " +
			"unique in the mbox list: the client refuses two mboxes of one part with one index (the " +
			"edge, not Adobe's engine, decides what the edge refuses); Adobe's engine answers both",
		explains: func(req, _, got map[string]any) bool { return refusedHere(got) && hasDuplicateMboxIndex(req) },
	},
	{
		name: "views named \"\"",
		// The generator names a view "" under the "noname" hazard, in an
		// input that has views: not every seed has one under -race.
		seedDependent: true,
		reason: "delivery.ViewRequest.Name is a string, and \"\" is its zero value: a view request without " +
			"a name asks for every view, and one named \"\" reads the same (telling them apart would change " +
			"the wire model); Adobe's engine takes \"\" as the name of a view no rule has, a remote view " +
			"(meta.remoteViews [\"\"], 206). Checked as Node's answer on the request with those names left out",
		readAs: func(req map[string]any) map[string]any {
			if !hasEmptyViewName(req) {
				return nil
			}
			out := copyRequest(req)
			pf, _ := out["prefetch"].(map[string]any)
			views, _ := pf["views"].([]any)
			for _, v := range views {
				if m, ok := v.(map[string]any); ok && m["name"] == "" {
					delete(m, "name")
				}
			}
			return out
		},
	},
}

// refusedHere reports whether this client refused the request (its answer
// is an error): a row for a request the client refuses explains the inputs
// it refuses, not any other difference in them. nodeFails is the same for
// a call Adobe's engine fails.
func refusedHere(got map[string]any) bool { return got["error"] != nil }

func nodeFails(node map[string]any) bool { return node["error"] != nil }

// hasEmptyViewName reports whether the request prefetches a view named "".
func hasEmptyViewName(req map[string]any) bool {
	pf, _ := req["prefetch"].(map[string]any)
	views, _ := pf["views"].([]any)
	return slices.ContainsFunc(views, func(v any) bool {
		m, ok := v.(map[string]any)
		return ok && m["name"] == ""
	})
}

// paramsOf is the request detail's parameters (or profile parameters,
// given k) in the order of the JSON text: a generated orderedObject keeps
// its order, a map is written sorted.
func paramsOf(d map[string]any, k string) ([]string, map[string]any) {
	switch p := d[k].(type) {
	case map[string]any:
		return sortedKeys(keysOf(p)), p
	case *orderedObject:
		return p.keys, p.vals
	}
	return nil, nil
}

// jsOrder is the order of JavaScript's own property keys: array indexes
// by number first, then the rest in insertion order.
func jsOrder(keys []string) []string {
	var idx, rest []string
	for _, k := range keys {
		if n, err := strconv.ParseUint(k, 10, 32); err == nil && strconv.FormatUint(n, 10) == k && n < 1<<32-1 {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.ParseUint(idx[i], 10, 32)
		b, _ := strconv.ParseUint(idx[j], 10, 32)
		return a < b
	})
	return append(idx, rest...)
}

// hasNamePair reports whether f holds for a parameter p and an expandable
// dotted name under it (p + "." + ...), given their positions in
// JavaScript's property order.
func hasNamePair(req map[string]any, f func(prefix, dotted int, vals map[string]any, p string) bool) bool {
	for _, d := range requestDetails(req) {
		keys, vals := paramsOf(d, "parameters")
		keys = jsOrder(keys)
		for i, k := range keys {
			if !expandable(k) {
				continue
			}
			for j, p := range keys {
				if strings.HasPrefix(k, p+".") && f(j, i, vals, p) {
					return true
				}
			}
		}
	}
	return false
}

// hasLowerCasePairReversed reports parameters x_lc and x, x a string,
// with x_lc first in JavaScript's property order.
func hasLowerCasePairReversed(req map[string]any) bool {
	for _, d := range requestDetails(req) {
		keys, vals := paramsOf(d, "parameters")
		keys = jsOrder(keys)
		for i, k := range keys {
			base, ok := strings.CutSuffix(k, "_lc")
			if !ok {
				continue
			}
			if _, isString := vals[base].(string); isString && slices.Index(keys, base) > i {
				return true
			}
		}
	}
	return false
}

func expandable(k string) bool {
	return strings.Contains(k, ".") && !strings.Contains(k, "..") && !strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".")
}

func jsTruthyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && x == x
	case string:
		return x != ""
	}
	return true
}

func isComposite(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// hasParameter reports whether f holds for any mbox, page-load or view
// parameter or profile parameter of the request.
func hasParameter(req map[string]any, f func(v any) bool) bool {
	for _, d := range requestDetails(req) {
		for _, k := range []string{"parameters", "profileParameters"} {
			_, p := paramsOf(d, k)
			for _, v := range p {
				if f(v) {
					return true
				}
			}
		}
	}
	return false
}

// requestDetails are the request's mbox, page-load and view requests.
func requestDetails(req map[string]any) []map[string]any {
	var out []map[string]any
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		if pl, ok := p["pageLoad"].(map[string]any); ok {
			out = append(out, pl)
		}
		for _, list := range []string{"mboxes", "views"} {
			items, _ := p[list].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

var jsPrototypeNames = map[string]bool{
	"constructor": true, "__proto__": true, "toString": true, "valueOf": true, "hasOwnProperty": true,
	"isPrototypeOf": true, "propertyIsEnumerable": true, "toLocaleString": true, "__defineGetter__": true,
	"__defineSetter__": true, "__lookupGetter__": true, "__lookupSetter__": true,
}

func requestedNames(req map[string]any) []string {
	var names []string
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		for _, list := range []string{"mboxes", "views"} {
			items, _ := p[list].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					if n, ok := m["name"].(string); ok {
						names = append(names, n)
					}
				}
			}
		}
	}
	return names
}

// anyHost reports whether f holds for the host of any URL in the request
// (the page, the referrer, or an mbox's, page load's or view's own).
func anyHost(req map[string]any, f func(host string) bool) bool {
	for _, u := range requestURLs(req) {
		if h := diffHost(u); h != "" && f(h) {
			return true
		}
	}
	return false
}

func requestURLs(req map[string]any) []string {
	var urls []string
	addr := func(m map[string]any) {
		a, _ := m["address"].(map[string]any)
		for _, k := range []string{"url", "referringUrl"} {
			if s, ok := a[k].(string); ok {
				urls = append(urls, s)
			}
		}
	}
	if c, ok := req["context"].(map[string]any); ok {
		addr(c)
	}
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		if pl, ok := p["pageLoad"].(map[string]any); ok {
			addr(pl)
		}
		for _, list := range []string{"mboxes", "views"} {
			items, _ := p[list].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					addr(m)
				}
			}
		}
	}
	return urls
}

// diffHost is the host part of a generated URL, as text.
func diffHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		return rest
	}
	h, _, _ := strings.Cut(rest, ":")
	return h
}

// nodeDecision is one answer of testdata/ondevicediff.js.
type nodeDecision struct {
	Status     int            `json:"status"`
	Response   map[string]any `json:"response"`
	Meta       map[string]any `json:"meta"`
	GeoLookups []string       `json:"geoLookups"`
	Error      string         `json:"error"`
}

func runNodeEngine(t *testing.T, node, nodeModules string, artifact []byte, requests []map[string]any) []nodeDecision {
	tmp := t.TempDir()
	artifactFile := filepath.Join(tmp, "artifact.json")
	require.NoError(t, os.WriteFile(artifactFile, artifact, 0o600))
	reqFile := filepath.Join(tmp, "requests.json")
	b, err := json.Marshal(requests)
	require.NoError(t, err)
	b = withRawJSON(b)
	require.NoError(t, os.WriteFile(reqFile, b, 0o600))
	script, err := filepath.Abs(filepath.Join("testdata", "ondevicediff.js"))
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), node, script, artifactFile, reqFile, diffClient)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodeModules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s", stderr.String())
	var results []nodeDecision
	require.NoError(t, json.Unmarshal(out, &results))
	require.Len(t, results, len(requests))
	return results
}

// diffGeoAnswer is the geo lookup's answer for an X-Forwarded-For value;
// keep it in step with geoAnswer in testdata/ondevicediff.js.
func diffGeoAnswer(ip string) map[string]any {
	switch ip {
	case "":
		return map[string]any{"x-geo-country-code": "SERVERLAND", "x-geo-city": "SERVERTOWN", "x-geo-latitude": 1.5, "x-geo-longitude": 2.5}
	case "203.0.113.7":
		return map[string]any{"x-geo-country-code": "US", "x-geo-region-code": "CA", "x-geo-city": "SAN FRANCISCO", "x-geo-latitude": 37.75, "x-geo-longitude": -122.4}
	case "2001:db8::7":
		return map[string]any{"x-geo-country-code": "CA", "x-geo-region-code": "BC", "x-geo-city": "VANCOUVER", "x-geo-latitude": "49.28", "x-geo-longitude": "-123.12"}
	}
	return map[string]any{"x-geo-country-code": "RO"}
}

// diffTransport answers geo lookups from diffGeoAnswer, recording them,
// and every other request (notifications) with an empty 200.
type diffTransport struct {
	mu      sync.Mutex
	lookups []string
}

func (d *diffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := []byte(`{"status":200}`)
	if strings.HasSuffix(r.URL.Path, "/v1/geo") {
		ip := r.Header.Get("X-Forwarded-For")
		d.mu.Lock()
		d.lookups = append(d.lookups, ip)
		d.mu.Unlock()
		body, _ = json.Marshal(diffGeoAnswer(ip))
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    r,
	}, nil
}

func (d *diffTransport) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.lookups
	d.lookups = nil
	return l
}

// goDecider decides requests with a Client on-device, as a service would.
type goDecider struct {
	c  *target.Client
	tr *diffTransport
}

func newGoDecider(t *testing.T, artifact []byte) *goDecider {
	g, err := tryGoDecider(t, artifact)
	require.NoError(t, err)
	return g
}

// tryGoDecider returns the error of a client that refuses the artifact.
func tryGoDecider(t *testing.T, artifact []byte) (*goDecider, error) {
	off := false
	tr := &diffTransport{}
	c, err := target.NewClient(target.Config{
		Client:            diffClient,
		OrganizationID:    "someOrgId",
		DecisioningMethod: target.OnDevice,
		TelemetryEnabled:  &off,
		HTTPClient:        &http.Client{Transport: tr},
		OnDevice:          target.OnDeviceConfig{ArtifactPayload: artifact, PollingInterval: -1},
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err = c.Ready().Await(t.Context())
	require.NoError(t, err)
	return &goDecider{c: c, tr: tr}, nil
}

// decide returns the answer in the form compared with Node's.
func (g *goDecider) decide(ctx context.Context, reqJSON []byte) map[string]any {
	var req target.DeliveryRequest
	if err := json.Unmarshal(reqJSON, &req); err != nil {
		g.tr.take()
		return map[string]any{"error": "request: " + err.Error()}
	}
	r, err := g.c.GetOffers(ctx, target.GetOffersOptions{Request: req, SessionID: "diff-session"}).Await(ctx)
	lookups := g.tr.take()
	if err != nil {
		return map[string]any{"error": err.Error(), "geoLookups": lookupsOf(lookups)}
	}
	b, err := json.Marshal(r.Response)
	if err != nil {
		return map[string]any{"error": "response: " + err.Error()}
	}
	var resp map[string]any
	if err := json.Unmarshal(b, &resp); err != nil {
		return map[string]any{"error": "response: " + err.Error()}
	}
	return comparable(r.Status, resp, r.Meta.RemoteMboxes, r.Meta.RemoteViews, lookups)
}

func nodeComparable(n nodeDecision) map[string]any {
	if n.Error != "" {
		return map[string]any{"error": n.Error, "geoLookups": lookupsOf(n.GeoLookups)}
	}
	strs := func(v any) []string {
		var out []string
		l, _ := v.([]any)
		for _, e := range l {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return comparable(n.Status, n.Response, strs(n.Meta["remoteMboxes"]), strs(n.Meta["remoteViews"]), n.GeoLookups)
}

func lookupsOf(l []string) any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// comparable keeps what a decision decides and how it is written: status,
// execute and prefetch (without traces), what needs the edge, and the
// geo lookups made.
func comparable(status int, resp map[string]any, remoteMboxes, remoteViews, lookups []string) map[string]any {
	sorted := func(l []string) any {
		l = slices.Clone(l)
		sort.Strings(l)
		return lookupsOf(l)
	}
	out := map[string]any{
		"status":       float64(status),
		"remoteMboxes": sorted(remoteMboxes),
		"remoteViews":  sorted(remoteViews),
		"geoLookups":   lookupsOf(lookups),
	}
	for _, k := range []string{"execute", "prefetch"} {
		if v, ok := resp[k]; ok {
			out[k] = withoutTraces(v)
		}
	}
	return out
}

func withoutTraces(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k != "trace" {
				out[k] = withoutTraces(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutTraces(e)
		}
		return out
	}
	return v
}

// runDiff compares the answers for requests, and checks that the Go
// engine answers each the same way every time.
func runDiff(t *testing.T, node, nodeModules string, a diffArtifact, requests []map[string]any) diffCounts {
	artifact := a.data
	nodeResults := runNodeEngine(t, node, nodeModules, artifact, requests)
	counts := diffCounts{inputs: len(requests), byClass: map[string]int{}}
	g, err := tryGoDecider(t, artifact)
	if err != nil {
		// An artifact this client refuses must be one Adobe's cannot
		// decide from either.
		for i, n := range nodeResults {
			require.NotEmpty(t, n.Error, "the client refuses the artifact (%v) but Node decides request %d", err, i)
		}
		t.Logf("artifact refused by both: %v", err)
		return counts
	}
	var asNode *goDecider // the artifact as Adobe's engine reads it
	if a.nodeReads != nil {
		asNode = newGoDecider(t, a.nodeReads)
	}
	shown := map[string]int{}
	dump := os.Getenv("TARGET_DIFF_DUMP") // a file to append every difference to, as JSON lines
	report := func(class string, req []byte, want, got any) {
		counts.byClass[class]++
		if dump != "" {
			line, _ := json.Marshal(map[string]any{"class": class, "request": json.RawMessage(req), "node": want, "go": got})
			f, err := os.OpenFile(dump, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			require.NoError(t, err)
			_, err = f.Write(append(line, '\n'))
			require.NoError(t, errors.Join(err, f.Close()))
		}
		if shown[class] >= 3 {
			return
		}
		shown[class]++
		w, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		t.Errorf("%s difference:\nrequest: %s\nnode: %s\ngo:   %s", class, req, w, gb)
	}
	const repeats = 2
	var reread []rereadInput
	for i, req := range requests {
		reqJSON, err := json.Marshal(req)
		require.NoError(t, err)
		reqJSON = withRawJSON(reqJSON)
		want := nodeComparable(nodeResults[i])
		got := g.decide(t.Context(), reqJSON)
		for range repeats - 1 {
			again := g.decide(t.Context(), reqJSON)
			if !equalJSON(got, again) {
				report("nondeterministic", reqJSON, got, again)
				break
			}
		}
		if w, _ := json.Marshal(want); bytes.Contains(w, []byte(`"content"`)) {
			counts.withContent++
		}
		if equalJSON(want, got) {
			continue
		}
		if k := keptFor(req, want, got); k != "" {
			counts.byClass["kept:"+k]++
			continue
		}
		if read, names := readAsFor(req); read != nil {
			reread = append(reread, rereadInput{i: i, req: read, names: names, want: want, got: got, reqJSON: reqJSON})
			continue
		}
		if names := nodeSeesFor(t, g, asNode, req, want); names != nil {
			for _, name := range names {
				counts.byClass["kept:"+name]++
			}
			continue
		}
		report(diffClass(want, got), reqJSON, want, got)
	}
	if len(reread) == 0 {
		return counts
	}
	// The requests as this client reads them, decided by Node in one run.
	reqs := make([]map[string]any, len(reread))
	for j, r := range reread {
		reqs[j] = r.req
	}
	for j, n := range runNodeEngine(t, node, nodeModules, artifact, reqs) {
		r := reread[j]
		names := r.names
		if !equalJSON(nodeComparable(n), r.got) {
			// Node's answer on the request as this client reads it may
			// still differ by what Adobe's engine in effect decides.
			more := nodeSeesFor(t, g, asNode, requests[r.i], nodeComparable(n))
			if more == nil {
				report(diffClass(r.want, r.got), r.reqJSON, r.want, r.got)
				continue
			}
			names = append(slices.Clone(names), more...)
		}
		for _, name := range names {
			counts.byClass["kept:"+name]++
		}
		continue
	}
	return counts
}

// nodeSeesFor is the names of the rows that account for the difference
// between Node's answer (want) and this client's on req by deciding what
// Adobe's engine in effect decides: the request as nodeSees rows rewrite
// it, on the artifact as Adobe's engine reads it (asNode, if any), the
// prototype-name macro row then allowed; nil if they do not.
func nodeSeesFor(t *testing.T, g, asNode *goDecider, req, want map[string]any) []string {
	var names []string
	seen := req
	for _, k := range engineKeptDifferences {
		if k.nodeSees == nil {
			continue
		}
		if r := k.nodeSees(seen); r != nil {
			seen = r
			names = append(names, k.name)
		}
	}
	if names == nil && asNode == nil {
		return nil
	}
	b, err := json.Marshal(seen)
	require.NoError(t, err)
	b = withRawJSON(b)
	got := g.decide(t.Context(), b)
	if asNode != nil {
		if read := asNode.decide(t.Context(), b); !equalJSON(read, got) {
			got = read
			for _, k := range engineKeptDifferences {
				if k.artifactAs {
					names = append(names, k.name)
				}
			}
		}
	}
	if names == nil {
		return nil
	}
	if equalJSON(want, got) {
		return names
	}
	if k := keptFor(req, want, got); k != "" {
		return append(names, k)
	}
	return nil
}

// rereadInput is a differing input that readAs rows may account for.
type rereadInput struct {
	i         int
	req       map[string]any
	names     []string
	want, got map[string]any
	reqJSON   []byte
}

func diffClass(want, got map[string]any) string {
	switch {
	case want["error"] != nil || got["error"] != nil:
		return "error"
	case !equalJSON(want["geoLookups"], got["geoLookups"]):
		return "geo lookup"
	case !equalJSON(want["status"], got["status"]) || !equalJSON(want["remoteMboxes"], got["remoteMboxes"]) ||
		!equalJSON(want["remoteViews"], got["remoteViews"]):
		return "remote dependency"
	case !equalJSON(prune(want), prune(got)):
		return "decision"
	}
	return "shape"
}

// readAsFor is the request as this client reads it, by every readAs row
// that applies in turn, and the names of those rows; nil if none applies.
func readAsFor(req map[string]any) (map[string]any, []string) {
	var names []string
	out := req
	for _, k := range engineKeptDifferences {
		if k.readAs == nil {
			continue
		}
		if r := k.readAs(out); r != nil {
			out = r
			names = append(names, k.name)
		}
	}
	if names == nil {
		return nil, nil
	}
	return out, names
}

// copyRequest is a deep copy of a generated request, orderedObjects
// keeping their order.
func copyRequest(req map[string]any) map[string]any {
	return copyJSON(req).(map[string]any)
}

func copyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyJSON(e)
		}
		return out
	case *orderedObject:
		return &orderedObject{keys: slices.Clone(x.keys), vals: copyJSON(x.vals).(map[string]any)}
	}
	return v
}

// isTyped reports whether a parameter value is a JSON number, boolean or
// null, which this client reads as text.
func isTyped(v any) bool {
	switch v.(type) {
	case nil, bool, float64, int:
		return true
	}
	return false
}

const diffClient = "someClientId"

// prune drops traces, empty lists, empty objects and nulls: what is left
// is what a decision decides, whatever the shape it is written in.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "trace" {
				continue
			}
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = prune(e)
		}
		return out
	}
	return v
}

func keptFor(req, node, got map[string]any) string {
	for _, k := range engineKeptDifferences {
		if k.applies != nil && k.applies(req) || k.explains != nil && k.explains(req, node, got) {
			return k.name
		}
	}
	return ""
}

// diffMacroPattern is Adobe's campaign macro pattern.
var diffMacroPattern = regexp.MustCompile(`\$\{[a-zA-Z0-9_.]*?\}`)

// nodeMacroKey is the name Adobe's engine looks a macro up by: "campaign"
// and "recipe" renamed (other spellings of them become "undefined"), the
// last two dotted parts, without "mbox".
func nodeMacroKey(name string) string {
	renamed := regexp.MustCompile(`(?i)campaign|recipe`).ReplaceAllStringFunc(name, func(w string) string {
		switch w {
		case "campaign":
			return "activity"
		case "recipe":
			return "experience"
		}
		return "undefined"
	})
	parts := strings.Split(renamed, ".")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	parts = slices.DeleteFunc(parts, func(p string) bool { return p == "mbox" })
	return strings.Join(parts, ".")
}

// jsPrototypeText is String() of each Object.prototype member, as node
// writes it.
var jsPrototypeText = map[string]string{
	"constructor": "function Object() { [native code] }", "__proto__": "[object Object]",
	"__defineGetter__": "function __defineGetter__() { [native code] }", "__defineSetter__": "function __defineSetter__() { [native code] }",
	"hasOwnProperty": "function hasOwnProperty() { [native code] }", "__lookupGetter__": "function __lookupGetter__() { [native code] }",
	"__lookupSetter__": "function __lookupSetter__() { [native code] }", "isPrototypeOf": "function isPrototypeOf() { [native code] }",
	"propertyIsEnumerable": "function propertyIsEnumerable() { [native code] }", "toString": "function toString() { [native code] }",
	"valueOf": "function valueOf() { [native code] }", "toLocaleString": "function toLocaleString() { [native code] }",
}

// punycodeOverflows reports whether RFC 3492's encoder, with its 32-bit
// overflow checks (section 6.4) as punycode.js has them, fails on label.
func punycodeOverflows(label string) bool {
	const maxInt = 1<<31 - 1
	runes := []rune(label)
	h := 0
	for _, r := range runes {
		if r < 0x80 {
			h++
		}
	}
	n, delta := 0x80, 0
	for h < len(runes) {
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if m-n > (maxInt-delta)/(h+1) {
			return true
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta > maxInt {
					return true
				}
			}
			if int(r) == n {
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return false
}

var longDigitRun = regexp.MustCompile(`[0-9]{309}`)

// hasParameterName reports whether any mbox, page-load or view parameter
// of the request has the name.
func hasParameterName(req map[string]any, name string) bool {
	for _, d := range requestDetails(req) {
		keys, _ := paramsOf(d, "parameters")
		if slices.Contains(keys, name) {
			return true
		}
	}
	return false
}

// hasDuplicateMark reports whether the request holds a name given twice
// (duplicateMark).
func hasDuplicateMark(req map[string]any) bool {
	b, err := json.Marshal(req)
	return err == nil && bytes.Contains(b, []byte(`"`+duplicateMark))
}

// mapStrings is a deep copy of a generated request with f applied to every
// text and object name.
func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[f(k)] = mapStrings(e, f)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, f)
		}
		return out
	case *orderedObject:
		o := &orderedObject{vals: map[string]any{}}
		for _, k := range x.keys {
			o.keys = append(o.keys, f(k))
			o.vals[f(k)] = mapStrings(x.vals[k], f)
		}
		return o
	}
	return v
}
