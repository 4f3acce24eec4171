package target_test

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/publicsuffix"
)

// Generator additions for the kept differences with Adobe's engine:
// hosts whose public suffix differs between the list Adobe's
// engine bundles and golang.org/x/net/publicsuffix, mbox names null, and
// two mboxes of one part with the same index. They are given to requests
// by position, not by the generator's random source, so that every other
// input of a seed stays what it was; and only to requests that hold no
// other hazard, so that no kept difference hides another.

// pslHosts have a suffix in one list and not the other, as of
// @adobe/target-nodejs-sdk 2.4.3 and golang.org/x/net v0.62.0
// (TestPSLHazardHostsDiffer checks them).
var pslHosts = []string{"shop.nom.ad", "x.arts.co", "a.b.com.is", "x.info.au", "foo.blogspot.co.uk",
	"a.air.museum", "a.b.hf.space", "x.y.replit.dev"}

var requestHazards = struct {
	sync.Mutex
	n map[*diffGen]int
}{n: map[*diffGen]int{}}

// addRequestHazards gives one generated request in 23 a host of pslHosts,
// one an mbox named null, one two mboxes with one index.
func (g *diffGen) addRequestHazards(req map[string]any) {
	requestHazards.Lock()
	i := requestHazards.n[g]
	requestHazards.n[g] = i + 1
	requestHazards.Unlock()
	if g.hazard != "" {
		return
	}
	switch i % 23 {
	case 5:
		if c, ok := req["context"].(map[string]any); ok {
			c["address"] = map[string]any{"url": "https://" + pslHosts[i/23%len(pslHosts)] + "/"}
		}
		return
	case 12, 19:
	default:
		return
	}
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		l, _ := p["mboxes"].([]any)
		if len(l) == 0 {
			continue
		}
		last, ok := l[len(l)-1].(map[string]any)
		if !ok {
			continue
		}
		if i%23 == 12 {
			last["name"] = nil
			return
		}
		// A non-zero index: a list whose indexes are all zero is
		// numbered by the client (unset indexes), not refused.
		if idx, _ := last["index"].(int); idx == 0 {
			last["index"] = 7
		}
		p["mboxes"] = append(l, copyJSON(last))
		return
	}
}

// nodePSLRules are the rules of the Public Suffix List that Adobe's
// Node.js SDK bundles, read from the installed SDK (a fact about its
// behaviour, not part of this project).
var nodePSLRules = sync.OnceValues(func() ([]string, error) {
	dir := os.Getenv("TARGET_NODE_SDK_DIR")
	if dir == "" {
		return nil, errors.New("TARGET_NODE_SDK_DIR is not set")
	}
	src, err := os.ReadFile(filepath.Join(dir, "@adobe", "target-nodejs-sdk", "dist", "targetclient.server.js"))
	if err != nil {
		return nil, err
	}
	text := string(src)
	start := strings.Index(text, "var rules = [")
	if start < 0 {
		return nil, errors.New("no Public Suffix List in the Node SDK")
	}
	text = text[start+len("var rules = "):]
	end := strings.Index(text, "];")
	if end < 0 {
		return nil, errors.New("no end to the Node SDK's Public Suffix List")
	}
	var rules []string
	if err := json.Unmarshal([]byte(text[:end+1]), &rules); err != nil {
		return nil, err
	}
	return rules, nil
})

// nodePublicSuffix is the top-level domain Adobe's engine gives an ASCII
// host (its psl library: the last matching rule of the list, wildcards
// and exceptions); listed is false when no rule matches.
func nodePublicSuffix(rules []string, host string) (suffix string, listed bool) {
	var rule string
	for _, r := range rules {
		s := strings.TrimPrefix(strings.TrimPrefix(r, "*."), "!")
		if host == s || strings.HasSuffix(host, "."+s) {
			rule, listed = r, true
		}
	}
	if !listed {
		return "", false
	}
	switch {
	case strings.HasPrefix(rule, "!"):
		_, suffix, _ = strings.Cut(rule[1:], ".")
	case strings.HasPrefix(rule, "*."):
		suffix = rule[2:]
		if private := strings.TrimSuffix(host, "."+suffix); private != host {
			suffix = private[strings.LastIndexByte(private, '.')+1:] + "." + suffix
		}
	default:
		suffix = rule
	}
	return suffix, true
}

var pslHostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// pslSuffixesDiffer reports whether an ASCII host has a different public
// suffix in the list Adobe's engine bundles and in golang.org/x/net's
// (unlisted in one and listed in the other, or listed with different
// suffixes). Hosts with non-ASCII characters are not compared: no row
// covers them.
func pslSuffixesDiffer(host string) bool {
	rules, err := nodePSLRules()
	if err != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	// Only host names go to the list: both engines take an IP address, a
	// ".local" host or a label a host name cannot have as all domain.
	if net.ParseIP(h) != nil || strings.HasSuffix(h, ".local") || !pslHostName.MatchString(h) {
		return false
	}
	node, nodeListed := nodePublicSuffix(rules, h)
	goSuffix, icann := publicsuffix.PublicSuffix(h)
	goListed := icann || strings.Contains(goSuffix, ".")
	if nodeListed != goListed {
		return true
	}
	return nodeListed && node != goSuffix
}

// hasNullMboxName reports an mbox whose name is JSON null.
func hasNullMboxName(req map[string]any) bool {
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		items, _ := p["mboxes"].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if v, has := m["name"]; has && v == nil {
					return true
				}
			}
		}
	}
	return false
}

// hasDuplicateMboxIndex reports two mboxes of one part with the same
// index, in a list whose indexes are not all zero (or unset).
func hasDuplicateMboxIndex(req map[string]any) bool {
	for _, part := range []string{"execute", "prefetch"} {
		p, _ := req[part].(map[string]any)
		items, _ := p["mboxes"].([]any)
		var idx []float64
		for _, it := range items {
			m, _ := it.(map[string]any)
			switch v := m["index"].(type) {
			case int:
				idx = append(idx, float64(v))
			case float64:
				idx = append(idx, v)
			default:
				idx = append(idx, 0)
			}
		}
		if !slices.ContainsFunc(idx, func(v float64) bool { return v != 0 }) {
			continue
		}
		for i, v := range idx {
			if slices.Contains(idx[i+1:], v) {
				return true
			}
		}
	}
	return false
}

// The generator's Public Suffix List hosts are hosts the kept row covers:
// the lists differ on each (this fails when either list changes there).
func TestPSLHazardHostsDiffer(t *testing.T) {
	if os.Getenv("TARGET_NODE_SDK_DIR") == "" {
		t.Skip("TARGET_NODE_SDK_DIR is not set; see testdata/node to install Adobe's Node.js SDK")
	}
	_, err := nodePSLRules()
	require.NoError(t, err)
	for _, h := range pslHosts {
		assert.True(t, pslSuffixesDiffer(h), h)
	}
	for _, h := range append([]string{"example.com", "shop.example.co.uk", "a.b.c.example.org", "localhost", "foo.local", "127.0.0.1", "10.0.0.1"}, diffHosts...) {
		assert.False(t, pslSuffixesDiffer(h), h)
	}
}
