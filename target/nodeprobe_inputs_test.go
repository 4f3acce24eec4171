package target_test

// Inputs for the comparisons with Adobe's Node.js SDK of
// parity_findings_test.go (compareWithNode, nodeprobe_test.go).

// probeRequest is a delivery request for the visitor 338e...a0 at cluster 28 with
// the given context and parts.
func probeRequest(ctx, execute, prefetch string, extra ...string) string {
	s := `{"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},"context":` + ctx
	if execute != "" {
		s += `,"execute":` + execute
	}
	if prefetch != "" {
		s += `,"prefetch":` + prefetch
	}
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

const probeWebContext = `{"channel":"web","address":{"url":"https://www.example.com/p"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}`

// tinyArtifact is an artifact with one mbox "m" and one view "v" whose
// rules match everyone, with the given meta and option contents.
func tinyArtifact(meta string, tokens string, options string, cond string) string {
	rule := func(name string) string {
		return `{"ruleKey":"1","activityId":1,"meta":` + meta + `,"condition":` + cond + `,"consequence":{"name":"` + name + `","options":` + options + `,"metrics":[]}}`
	}
	return `{"version":"1.0.0","meta":{"clientCode":"someClientId","environment":"production"},"globalMbox":"target-global-mbox","geoTargetingEnabled":true,` +
		`"responseTokens":` + tokens + `,"remoteMboxes":[],"remoteViews":[],"localMboxes":["m","target-global-mbox"],"localViews":["v"],` +
		`"rules":{"mboxes":{"m":[` + rule("m") + `],"target-global-mbox":[` + rule("target-global-mbox") + `]},"views":{"v":[` + rule("v") + `]}}}`
}
