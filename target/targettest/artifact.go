package targettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/internal/artifact"
)

// The on-device decisioning artifact the edge serves, built from its
// offers, so that an on-device or hybrid client decides locally what the
// edge would have answered.

// artifactEnvironments are the environments a Target artifact URL can name;
// the edge serves the same artifact for each.
var artifactEnvironments = []string{"production", "staging", "development"}

// servedArtifact is the artifact's body and its entity tag, made once: the
// offers never change while the edge runs.
type servedArtifact struct {
	body []byte
	etag string
}

// buildArtifact writes one rule per configured location, answering every
// visitor with the location's offer. Options carry the event tokens the
// edge gives prefetched options (so an on-device client notifies with the
// same tokens), metrics the tokens the edge gives them; activity ids are
// numbered in location order from 1, stable for one set of offers.
func buildArtifact(cfg Config) servedArtifact {
	doc := artifact.Document{
		Version:        artifact.Version,
		Meta:           map[string]any{"clientCode": cfg.Client, "generatedBy": "targettest"},
		GlobalMbox:     artifact.DefaultGlobalMbox,
		ResponseTokens: []string{},
		RemoteMboxes:   []string{},
		LocalMboxes:    []string{},
		RemoteViews:    []string{},
		LocalViews:     []string{},
		Rules:          &artifact.Rules{Mboxes: map[string][]artifact.Rule{}, Views: map[string][]artifact.Rule{}},
	}
	activity := 0
	// Conditions are true: every visitor gets the offer, as from the edge.
	rule := func(location, name, kind string, o Offer) artifact.Rule {
		activity++
		opts, metrics := o.answer(location, true)
		return artifact.Rule{
			RuleKey:    fmt.Sprintf("%d-0", activity),
			ActivityID: activity,
			Meta: map[string]any{
				"activity.id": activity, "activity.name": location,
				"location.name": name, "location.type": kind,
			},
			Condition:   true,
			Consequence: artifact.Consequence{Name: name, Options: artifactOptions(opts), Metrics: artifactMetrics(metrics)},
		}
	}
	for _, name := range sortedKeys(cfg.Offers.Mboxes) {
		doc.LocalMboxes = append(doc.LocalMboxes, name)
		doc.Rules.Mboxes[name] = []artifact.Rule{rule("mbox/"+name, name, "mbox", cfg.Offers.Mboxes[name])}
	}
	if pl := cfg.Offers.PageLoad; pl != nil {
		if !slices.Contains(doc.LocalMboxes, artifact.DefaultGlobalMbox) {
			doc.LocalMboxes = append(doc.LocalMboxes, artifact.DefaultGlobalMbox)
		}
		doc.Rules.Mboxes[artifact.DefaultGlobalMbox] = append(doc.Rules.Mboxes[artifact.DefaultGlobalMbox], rule("pageLoad", artifact.DefaultGlobalMbox, "mbox", *pl))
	}
	for _, name := range sortedKeys(cfg.Offers.Views) {
		doc.LocalViews = append(doc.LocalViews, name)
		doc.Rules.Views[name] = []artifact.Rule{rule("view/"+name, name, "view", cfg.Offers.Views[name])}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // content as configured, as in Delivery answers
	if err := enc.Encode(doc); err != nil {
		// Validate checked that every content is JSON, and the rest is
		// the edge's own.
		panic(fmt.Sprintf("targettest: encoding the artifact: %v", err))
	}
	sum := sha256.Sum256(buf.Bytes())
	return servedArtifact{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

func sortedKeys(m map[string]Offer) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// artifactOptions and artifactMetrics write the edge's answer in the
// artifact's shape; an empty list encodes as [], as artifacts write it.
func artifactOptions(in []target.Option) []artifact.Option {
	out := make([]artifact.Option, len(in))
	for i, o := range in {
		out[i] = artifact.Option{Type: string(o.Type), EventToken: o.EventToken, ResponseTokens: o.ResponseTokens}
		if o.Content != nil {
			out[i].Content = o.Content // raw JSON, written as it is
		}
	}
	return out
}

func artifactMetrics(in []target.Metric) []artifact.Metric {
	out := make([]artifact.Metric, len(in))
	for i, m := range in {
		out[i] = artifact.Metric{Type: string(m.Type), Selector: m.Selector, EventToken: m.EventToken}
	}
	return out
}

// ArtifactURL returns the URL of the edge's on-device decisioning artifact
// for the production environment: {URL}/{client}/production/v1/rules.json,
// the path of Target's CDN. Set it as target.OnDeviceConfig.ArtifactLocation
// of a client made from [Server.ClientConfig].
func (s *Server) ArtifactURL() string {
	return s.URL + "/" + s.cfg.Client + "/production/v1/rules.json"
}

// isArtifactPath reports whether path is one of the artifact's:
// /{client}/{environment}/v1/[{propertyToken}/]rules.json.
func (s *Server) isArtifactPath(path string) bool {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if n := len(parts); n < 4 || n > 5 || parts[n-1] != "rules.json" || parts[n-2] == "" {
		return false
	}
	return parts[0] == s.cfg.Client && slices.Contains(artifactEnvironments, parts[1]) && parts[2] == "v1"
}

// serveArtifact answers GET and HEAD for the artifact, 304 Not Modified
// when If-None-Match names its entity tag, and returns the status.
func (s *Server) serveArtifact(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		msg := fmt.Sprintf("method %s not allowed: the artifact is GET %s", r.Method, r.URL.Path)
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, msg)
		return http.StatusMethodNotAllowed, msg
	}
	a := s.artifact
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "max-age=60")
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, ""
	}
	writeHeader(w, http.StatusOK, len(a.body))
	_, _ = w.Write(a.body)
	return http.StatusOK, ""
}

// etagMatches applies If-None-Match's weak comparison: any listed tag, or
// "*", matches.
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
