package target_test

import (
	"encoding/json"
	"fmt"
	"strings"
)

func rtReq(ctx, execute, prefetch string, extra ...string) string {
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

const rtCtx = `{"channel":"web","address":{"url":"https://www.example.com/p"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}`

func rtExploreCases() []rtCase {
	var cs []rtCase
	add := func(name, art, req string) { cs = append(cs, rtCase{name: name, artifact: art, request: req}) }
	add("baseline execute mbox", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, ""))
	add("baseline prefetch mbox", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, "", `{"mboxes":[{"name":"mbox-magician","index":1}]}`))
	add("same mbox twice execute", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1},{"name":"mbox-magician","index":2}]}`, ""))
	add("same mbox execute+prefetch", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, `{"mboxes":[{"name":"mbox-magician","index":1}]}`))
	add("trace on", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, "", `"trace":{"authorizationToken":"x"}`))
	add("requestId given", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, "", `"requestId":"my-req"`))
	add("no id at all", "TEST_ARTIFACT_AB_SIMPLE", `{"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	add("mcid only", "TEST_ARTIFACT_AB_SIMPLE", `{"id":{"marketingCloudVisitorId":"07327024324407615753"},"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	add("thirdPartyId only", "TEST_ARTIFACT_AB_SIMPLE", `{"id":{"thirdPartyId":"abc"},"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	add("customerIds", "TEST_ARTIFACT_AB_SIMPLE", `{"id":{"customerIds":[{"id":"c1","integrationCode":"ic","authenticatedState":"authenticated"}]},"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	add("empty tntId", "TEST_ARTIFACT_AB_SIMPLE", `{"id":{"tntId":""},"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	add("experienceCloud analytics", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, "", `"experienceCloud":{"analytics":{"logging":"client_side"}}`))
	add("property token", "TEST_ARTIFACT_PROPERTIES", rtReq(rtCtx, `{"pageLoad":{}}`, "", `"property":{"token":"9a327144-63fe-a7fc-5fdb-a1c1f8a3ed16"}`))
	add("property token other", "TEST_ARTIFACT_PROPERTIES", rtReq(rtCtx, `{"pageLoad":{}}`, "", `"property":{"token":"nope"}`))
	add("pageLoad execute", "TEST_ARTIFACT_PAGELOAD_VEC_AB", rtReq(rtCtx, `{"pageLoad":{}}`, ""))
	add("pageLoad prefetch", "TEST_ARTIFACT_PAGELOAD_VEC_AB", rtReq(rtCtx, "", `{"pageLoad":{}}`))
	add("pageLoad execute+prefetch", "TEST_ARTIFACT_PAGELOAD_VEC_AB", rtReq(rtCtx, `{"pageLoad":{}}`, `{"pageLoad":{}}`))
	add("global mbox as mbox", "TEST_ARTIFACT_PAGELOAD_VEC_AB", rtReq(rtCtx, `{"mboxes":[{"name":"target-global-mbox","index":0}]}`, ""))
	add("views all prefetch", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{}]}`))
	add("view by name", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{"name":"home"}]}`))
	add("view name case", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{"name":"HOME"}]}`))
	add("view unknown", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{"name":"nope"}]}`))
	add("views twice", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{"name":"home"},{"name":"home"}]}`))
	add("view with key", "TEST_ARTIFACT_VIEWS", rtReq(rtCtx, "", `{"views":[{"key":"home"}]}`))
	add("macros mbox", "TEST_ARTIFACT_CAMPAIGN_MACROS", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-macros","index":3,"parameters":{"user":"Bob","greeting":"hi"}}]}`, ""))
	add("macros pageload", "TEST_ARTIFACT_CAMPAIGN_MACROS", rtReq(rtCtx, `{"pageLoad":{"parameters":{"user":"Bob"}}}`, ""))
	add("macros view", "TEST_ARTIFACT_CAMPAIGN_MACROS", rtReq(rtCtx, "", `{"views":[{"name":"contact","parameters":{"user":"Bob"}}]}`))
	add("remote mbox ff", "TEST_ARTIFACT_FEATURE_FLAG", rtReq(rtCtx, `{"mboxes":[{"name":"remote-only-mbox-a","index":1},{"name":"mbox-feature-flags","index":2}]}`, ""))
	add("unknown mbox", "TEST_ARTIFACT_FEATURE_FLAG", rtReq(rtCtx, `{"mboxes":[{"name":"unknown","index":1}]}`, ""))
	add("global remote", "TEST_ARTIFACT_GLOBAL_MBOX", rtReq(rtCtx, `{"pageLoad":{}}`, ""))
	add("timeframe", "TEST_ARTIFACT_TIMEFRAME", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-dateranges","index":1}]}`, ""))
	add("geo ip", "TEST_ARTIFACT_GEO", rtReq(`{"channel":"web","geo":{"ipAddress":"203.0.113.7"}}`, `{"mboxes":[{"name":"mbox-geography","index":1}]}`, ""))
	add("geo ip + city", "TEST_ARTIFACT_GEO", rtReq(`{"channel":"web","geo":{"ipAddress":"203.0.113.7","city":"x"}}`, `{"mboxes":[{"name":"mbox-geography","index":1}]}`, ""))
	add("geo empty obj", "TEST_ARTIFACT_GEO", rtReq(`{"channel":"web","geo":{}}`, `{"mboxes":[{"name":"mbox-geography","index":1}]}`, ""))
	add("geo lat 0", "TEST_ARTIFACT_GEO", rtReq(`{"channel":"web","geo":{"latitude":0,"longitude":0}}`, `{"mboxes":[{"name":"mbox-geography","index":1}]}`, ""))
	add("geo ip empty", "TEST_ARTIFACT_GEO", rtReq(`{"channel":"web","geo":{"ipAddress":""}}`, `{"mboxes":[{"name":"mbox-geography","index":1}]}`, ""))
	add("geo ip + tokens", "TEST_ARTIFACT_AB_SIMPLE", rtReq(`{"channel":"web","geo":{"ipAddress":"203.0.113.7"}}`, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, ""))
	add("geo city given tokens", "TEST_ARTIFACT_AB_SIMPLE", rtReq(`{"channel":"web","geo":{"city":"Paris","countryCode":"FR","stateCode":""}}`, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, ""))
	for _, u := range []string{"https://www.example.com:8080/p", "https://user:pw@example.com/p", "http://192.168.0.1/p", "https://example.com./p", "https://ex%61mple.com/p", "https://example.com", "https://example.com?", "https://example.com#", "https://example.com/?a=1&a=2", "https://example.com/p?q=a+b%20c#frag?x", "HTTPS://EXAMPLE.COM/P", "//example.com/p", "example.com/p", "", "https://example.co.uk/p", "https://a.b.c.example.com/x/y/z.html?x#y", "https://localhost/", "https://example.com/%2e%2e/x", "https://example.com/a/../b"} {
		add("url "+u, "TEST_ARTIFACT_ADDRESS", rtReq(fmt.Sprintf(`{"channel":"web","address":{"url":%q,"referringUrl":%q}}`, u, u), `{"mboxes":[{"name":"mbox-urlcontains","index":1}]}`, ""))
	}
	add("mbox name spaces", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":" mbox-magician","index":1},{"name":"mbox magician é","index":2}]}`, ""))
	add("mbox index missing", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician"}]}`, ""))
	add("mbox index negative", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":-1}]}`, ""))
	add("location hint cookie", "TEST_ARTIFACT_AB_SIMPLE", rtReq(rtCtx, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, ""))
	cs[len(cs)-1].locationHint = "35"
	add("target cookie", "TEST_ARTIFACT_AB_SIMPLE", `{"context":`+rtCtx+`,"execute":{"mboxes":[{"name":"mbox-magician","index":1}]}}`)
	cs[len(cs)-1].targetCookie = "session#abc#9999999999|PC#cookie-tnt.28_0#9999999999"
	return cs
}

var rtUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
	"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
	"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"Opera/9.80 (Windows NT 6.0) Presto/2.12.388 Version/12.14",
	"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
	"Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
	"curl/8.4.0", "", "Chrome", "Firefox/", "Safari/605", "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5",
	"Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/115.0 SeaMonkey/2.53.18",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/18.19045",
	"Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
	"Mozilla/5.0 (compatible; Konqueror/4.5; FreeBSD) KHTML/4.5.4 (like Gecko)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 312.0.0.20.109",
	"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/443.0.0.33.118;]",
	"MOZILLA/5.0 (WINDOWS NT 10.0) CHROME/120.0 SAFARI/537.36", "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0.0.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0) Firefox/0121.0", "Mozilla/5.0 (Windows NT 10.0) Firefox/1e3", "Mozilla/5.0 (Windows NT 10.0) Firefox/-1",
	"Mozilla/5.0 (Windows NT 10.0) Chrome/ 120 Safari/537.36", "Mozilla/5.0 (Windows NT 10.0) Chrome/120 Firefox/99",
}

var rtHints = []string{
	`{"mobile":false,"platform":"Windows","browserUAWithMajorVersion":"\"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Microsoft Edge\";v=\"120\""}`,
	`{"mobile":true,"platform":"Android","browserUAWithFullVersion":"\"Not_A Brand\";v=\"8.0.0.0\", \"Chromium\";v=\"120.0.6099.119\", \"Google Chrome\";v=\"120.0.6099.119\""}`,
	`{"platform":"macOS","platformVersion":"14.2.0","browserUAWithMajorVersion":"\"Opera\";v=\"106\", \"Chromium\";v=\"120\""}`,
	`{"platform":"Linux"}`, `{"platform":"Chrome OS"}`, `{"platform":""}`, `{"platform":"Unknown","model":"Pixel 7"}`,
	`{"browserUAWithMajorVersion":""}`, `{"browserUAWithMajorVersion":"\"Brave\";v=\"120\""}`,
	`{"browserUAWithMajorVersion":"Chromium;v=120"}`,
}

func rtContextCases() []rtCase {
	var cs []rtCase
	add := func(name, ctx string) {
		cs = append(cs, rtCase{name: name, artifact: "TEST_ARTIFACT_AB_SIMPLE",
			request: rtReq(ctx, "", `{"mboxes":[{"name":"mbox-magician","index":1}]}`, `"trace":{"authorizationToken":"x"}`)})
	}
	for i, ua := range rtUAs {
		add(fmt.Sprintf("ua %d %s", i, ua), fmt.Sprintf(`{"channel":"web","userAgent":%q}`, ua))
		add(fmt.Sprintf("ua+hints %d", i), fmt.Sprintf(`{"channel":"web","userAgent":%q,"clientHints":%s}`, ua, rtHints[i%len(rtHints)]))
	}
	for i, h := range rtHints {
		add(fmt.Sprintf("hints only %d", i), fmt.Sprintf(`{"channel":"web","clientHints":%s}`, h))
	}
	for _, off := range []string{"0", "330", "-600", "1440", "-1440", "99999", "0.5", "-0", "1e3", "345"} {
		add("time offset "+off, `{"channel":"web","timeOffsetInMinutes":`+off+`}`)
	}
	for _, u := range []string{"https://www.example.com:8080/p", "https://user:pw@example.com/p", "http://192.168.0.1/p", "https://example.com./p", "https://ex%61mple.com/p",
		"https://example.com", "https://example.com?", "https://example.com#", "https://example.com/?a=1&a=2", "https://example.com/p?q=a+b%20c#frag?x",
		"HTTPS://EXAMPLE.COM/P?Q=A", "//example.com/p", "example.com/p", "", "https://example.co.uk/p", "https://a.b.c.example.com/x/y/z.html?x#y", "https://localhost/",
		"https://example.com/%2e%2e/x", "https://example.com/a/../b", "https://example.com/a b", "https://example.com/p?x=%ZZ", "https://xn--caf-dma.example/p",
		"https://café.example/p", "ftp://example.com/p", "https://example.com:/p", "https://example.com:99999/p", "https://[::1]:80/p", "https://example.com\\p\\q",
		"https://example.com/p;param?q", "https://EXAMPLE.com/ÉCOLE?Ü=1", "https://example.com/?", "https://example.com/#/route?x=1", "https://s3.amazonaws.com/b/k",
		"https://foo.github.io/", "https://foo.blogspot.co.uk/", "https://a.b", "https://127.0.0.1:3000", "https://example.com?a", "mailto:x@example.com",
		"https://example.com/p?utm=1#", "  https://example.com/p  ", "https://example.com/\u2028", "https://ex ample.com/",
		"https://shop.nom.ad/", "https://x.arts.co/", "https://a.b.com.is/", "https://x.reg.dk/", "https://x.info.au/", "https://foo.公司.cn/", "https://foo.xn--55qx5d.cn/",
		"https://a.air.museum/", "https://foo.blogspot.com/", "https://www.blogspot.co.uk/"} {
		add("url "+u, fmt.Sprintf(`{"channel":"web","address":{"url":%q,"referringUrl":%q}}`, u, u))
	}
	for _, g := range []string{`{"city":"","countryCode":"US"}`, `{"latitude":37.75}`, `{"longitude":-0}`, `{"latitude":1e-7,"longitude":1e21}`,
		`{"city":"São Paulo","stateCode":"SP","countryCode":"br"}`, `{"ipAddress":"203.0.113.7","city":"Paris"}`, `{"ipAddress":"203.0.113.7","latitude":1}`,
		`{"ipAddress":"203.0.113.7","countryCode":""}`, `{"ipAddress":"  "}`, `{"ipAddress":"not-an-ip"}`, `{"city":null}`, `{"latitude":null,"longitude":2}`} {
		add("geo "+g, `{"channel":"web","geo":`+g+`}`)
	}
	for _, p := range []string{`{"a":"1e21"}`, `{"a":"x","A":"y"}`, `{"Foo":"BAR"}`, `{"ä":"Ö"}`, `{"a":"İ"}`, `{"a":"ß"}`, `{"a":""}`, `{"":"x"}`,
		`{"a.b.c":"1","a.b.d":"2"}`, `{"a.":"1"}`, `{"x.0":"a"}`, `{"a_lc":"Q"}`, `{"k":"\u0000"}`, `{"k":"ǅ"}`, `{"k":"ΣΑΣ"}`} {
		cs = append(cs, rtCase{name: "params " + p, artifact: "TEST_ARTIFACT_AB_SIMPLE",
			request: rtReq(`{"channel":"web"}`, "", `{"mboxes":[{"name":"mbox-magician","index":1,"parameters":`+p+`}]}`, `"trace":{"authorizationToken":"x"}`)})
	}
	return cs
}

// rtTinyArtifact is an artifact with one mbox "m" and one view "v" whose
// rules match everyone, with the given meta and option contents.
func rtTinyArtifact(meta string, tokens string, options string, cond string) string {
	rule := func(name string) string {
		return `{"ruleKey":"1","activityId":1,"meta":` + meta + `,"condition":` + cond + `,"consequence":{"name":"` + name + `","options":` + options + `,"metrics":[]}}`
	}
	return `{"version":"1.0.0","meta":{"clientCode":"someClientId","environment":"production"},"globalMbox":"target-global-mbox","geoTargetingEnabled":true,` +
		`"responseTokens":` + tokens + `,"remoteMboxes":[],"remoteViews":[],"localMboxes":["m","target-global-mbox"],"localViews":["v"],` +
		`"rules":{"mboxes":{"m":[` + rule("m") + `],"target-global-mbox":[` + rule("target-global-mbox") + `]},"views":{"v":[` + rule("v") + `]}}}`
}

func rtTinyCases() []rtCase {
	var cs []rtCase
	macros := `"${activity.id}|${activity.name}|${experience.id}|${offer.id}|${offer.name}|${option.id}|${mbox.name}|${mbox.index}|${mbox.p}|${mbox.P}|${mbox.p_lc}|${campaign.id}|${recipe.name}|${x.y}|${}|${mbox.}|${activity.extra}|${mbox.name.length}|${profile.q}|${page.url}|${user.browserType}"`
	metas := []string{
		`{"activity.id":1e21,"activity.name":-0,"experience.id":1e-7,"offer.id":0.1,"offer.name":true,"option.id":null,"option.name":[1,"a"],"activity.extra":{"a":1},"geo.city":"meta-city","audience.ids":[]}`,
		`{"activity.id":123456789012345680000,"activity.name":"ünï","experience.id":-1.5e-10,"offer.id":9007199254740993,"offer.name":"","option.id":false,"option.name":{},"activity.extra":[]}`,
		`{"activity.id":"1","activity.name":"${mbox.p}","experience.id":"${activity.id}","offer.id":1.0,"offer.name":"a$b","option.id":5e-324,"option.name":1.7976931348623157e308}`,
		`{}`,
	}
	tokenSets := []string{`["activity.id","activity.name","experience.id","offer.id","offer.name","option.id","option.name","activity.extra","geo.city","geo.country","geo.state","geo.latitude","profile.x","audience.ids","activity.id"]`, `[]`}
	optionSets := []string{
		`[{"type":"html","eventToken":"T1","content":` + macros + `}]`,
		`[{"type":"json","eventToken":"T1","content":{"a":` + macros + `,"n":1e21}}]`,
		`[{"type":"actions","eventToken":"T1","content":[{"type":"setHtml","selector":"#x","content":` + macros + `},{"type":"setJson","content":{"k":` + macros + `}}]}]`,
		`[{"type":"redirect","eventToken":"T1","content":"https://e.com/?a=${mbox.p}"},{"type":"html","content":"no token"},{"type":"html","eventToken":"T1","content":"dup token"}]`,
		`[{"type":"html","eventToken":"","content":"empty token"},{"type":"html","eventToken":null,"content":null}]`,
		`[]`,
	}
	ctx := `{"channel":"web","geo":{"city":"Rome","countryCode":"IT","stateCode":"","latitude":41.9}}`
	for mi, m := range metas {
		for ti, tk := range tokenSets {
			for oi, o := range optionSets {
				art := rtTinyArtifact(m, tk, o, "true")
				name := fmt.Sprintf("tiny meta%d tokens%d options%d", mi, ti, oi)
				cs = append(cs,
					rtCase{name: name + " execute", artifact: art, request: rtReq(ctx, `{"mboxes":[{"name":"m","index":7,"parameters":{"p":"Pv","P":"upper"}}],"pageLoad":{"parameters":{"p":"pl"}}}`, "", `"profileParameters":{"q":"1"}`)},
					rtCase{name: name + " prefetch", artifact: art, request: rtReq(ctx, "", `{"mboxes":[{"name":"m","index":7,"parameters":{"p":"Pv"}}],"views":[{"name":"v","parameters":{"p":"vw"}}],"pageLoad":{}}`)},
				)
			}
		}
	}
	return cs
}

func rtIDCases() []rtCase {
	var cs []rtCase
	ids := []string{`{"tntId":"é"}`, `{"tntId":"😀x"}`, `{"tntId":"` + strings.Repeat("z", 5000) + `"}`, `{"tntId":".28_0"}`, `{"tntId":"abc.28_0.35_0"}`, `{"tntId":"abc."}`,
		`{"tntId":"ABC"}`, `{"tntId":" abc "}`, `{"tntId":"a\u0000b"}`, `{"tntId":"a\u2028b"}`, `{"marketingCloudVisitorId":"m1","tntId":"t1"}`, `{"marketingCloudVisitorId":"m1","thirdPartyId":"p1","tntId":"t1"}`,
		`{"thirdPartyId":"p1","tntId":"t1"}`, `{"marketingCloudVisitorId":"","tntId":"t1"}`, `{"thirdPartyId":"","tntId":"t1"}`, `{"marketingCloudVisitorId":"m1","thirdPartyId":"p1"}`,
		`{"customerIds":[{"id":"c","integrationCode":"i","authenticatedState":"authenticated"}],"tntId":"t2"}`, `{"tntId":"\ud7ff\ue000"}`, `{"tntId":"1e21"}`, `{"tntId":"-0"}`}
	for i := 0; i < 12; i++ {
		ids = append(ids, fmt.Sprintf(`{"tntId":"visitor-%d-ñ"}`, i))
	}
	for _, id := range ids {
		cs = append(cs, rtCase{name: "id " + id[:min(len(id), 60)], artifact: "TEST_ARTIFACT_AB_MULTI_SIMPLE",
			request: `{"id":` + id + `,"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"mbox-magician","index":1},{"name":"mbox-salutations","index":2}]},"trace":{"authorizationToken":"x"}}`})
	}
	return cs
}

func rtMiscCases() []rtCase {
	var cs []rtCase
	add := func(name, art, req string) { cs = append(cs, rtCase{name: name, artifact: art, request: req}) }
	tr := `"trace":{"authorizationToken":"x"}`
	for _, off := range []string{"0", "330", "-600", "1440", "-1441", "99999", "0.5", "-0.5", "1e3", "345", "-720", "840", "null"} {
		add("time offset "+off, "TEST_ARTIFACT_AB_SIMPLE", rtReq(`{"channel":"web","timeOffsetInMinutes":`+off+`}`, "", `{"mboxes":[{"name":"mbox-magician","index":1}]}`, tr))
	}
	for _, a := range []string{"TEST_ARTIFACT_ATJS", "TEST_ARTIFACT_FEATURE_FLAG", "TEST_ARTIFACT_TIMEFRAME", "TEST_ARTIFACT_GLOBAL_MBOX", "TEST_ARTIFACT_VIEWS", "TEST_ARTIFACT_PROPERTIES", "TEST_ARTIFACT_CAMPAIGN_MACROS"} {
		for i, parts := range [][2]string{
			{`{"pageLoad":{},"mboxes":[{"name":"mbox-browsers","index":1},{"name":"target-global-mbox","index":2}]}`, ""},
			{"", `{"pageLoad":{},"views":[{}],"mboxes":[{"name":"remote-only-mbox-a","index":1}]}`},
			{"", `{"views":[{"name":"contact"},{"name":"nope"},{"name":""}]}`},
			{`{"mboxes":[{"name":"remote-only-mbox-b","index":1},{"name":"mbox-dateranges","index":2},{"name":"mbox-feature-flags","index":3}]}`, `{"mboxes":[{"name":"mbox-feature-flags","index":3}]}`},
			{`{"pageLoad":{"parameters":{"at_property":"9a327144-63fe-a7fc-5fdb-a1c1f8a3ed16"}}}`, ""},
			{`{"mboxes":[{"name":"target-global-mbox","index":1,"parameters":{"at_property":"9a327144-63fe-a7fc-5fdb-a1c1f8a3ed16"}}]}`, `{"pageLoad":{}}`},
			{`{"pageLoad":{"address":{"url":"https://other.example.org/x"}},"mboxes":[{"name":"mbox-macros","index":1,"address":{"url":"https://m.example.net/y?z=1"}}]}`, `{"views":[{"name":"contact","address":{"url":"https://v.example.com/"}}]}`},
		} {
			add(fmt.Sprintf("%s combo %d", a, i), a, rtReq(`{"channel":"web","address":{"url":"https://www.example.com/p"}}`, parts[0], parts[1]))
			add(fmt.Sprintf("%s combo %d property", a, i), a, rtReq(`{"channel":"web","address":{"url":"https://www.example.com/p"}}`, parts[0], parts[1], `"property":{"token":"9a327144-63fe-a7fc-5fdb-a1c1f8a3ed16"}`))
		}
	}
	return cs
}

func rtNameCases() []rtCase {
	var cs []rtCase
	for _, v := range []string{`{"name":null}`, `{"name":" "}`, `{"name":"HOME"}`, `{"name":"home "}`, `{"key":"home"}`, `{"name":"home","key":""}`, `{"name":"contact"},{"name":"contact"}`, `{}` + "," + `{"name":"home"}`, `{"name":"home"},{}`} {
		for _, a := range []string{"TEST_ARTIFACT_VIEWS", "TEST_ARTIFACT_AB_SIMPLE"} {
			cs = append(cs, rtCase{name: a + " views " + v, artifact: a, request: rtReq(`{"channel":"web"}`, "", `{"views":[`+v+`]}`)})
		}
	}
	for _, m := range []string{`{"name":null,"index":1}`, `{"name":"mbox-magician","index":1},{"name":"mbox-magician","index":1}`, `{"name":"MBOX-MAGICIAN","index":1}`, `{"name":"mbox-magician ","index":1}`} {
		for _, a := range []string{"TEST_ARTIFACT_AB_SIMPLE", "TEST_ARTIFACT_FEATURE_FLAG"} {
			cs = append(cs, rtCase{name: a + " mboxes " + m, artifact: a, request: rtReq(`{"channel":"web"}`, `{"mboxes":[`+m+`]}`, "")})
			cs = append(cs, rtCase{name: a + " prefetch mboxes " + m, artifact: a, request: rtReq(`{"channel":"web"}`, "", `{"mboxes":[`+m+`]}`)})
		}
	}
	return cs
}

func rtGeoMacroCases() []rtCase {
	var cs []rtCase
	geos := []string{`{}`, `{"ipAddress":"203.0.113.7"}`, `{"ipAddress":"203.0.113.7","city":"SAN FRANCISCO"}`, `{"countryCode":"US","stateCode":"CA","city":"san francisco"}`,
		`{"ipAddress":"2001:db8::7"}`, `{"ipAddress":"::ffff:203.0.113.7"}`, `{"ipAddress":"203.0.113.7 "}`, `{"latitude":37.75,"longitude":-122.4}`, `{"latitude":"37.75","longitude":"-122.4"}`,
		`{"city":"SAN FRANCISCO","latitude":0}`, `{"ipAddress":"203.0.113.7","latitude":37.75}`, `{"ipAddress":"203.0.113.7","stateCode":null}`, `{"countryCode":"us"}`}
	for _, g := range geos {
		for _, part := range []string{"execute", "prefetch"} {
			mb := `{"mboxes":[{"name":"mbox-geography","index":1}]}`
			e, p := mb, ""
			if part == "prefetch" {
				e, p = "", mb
			}
			cs = append(cs, rtCase{name: "geo " + part + " " + g, artifact: "TEST_ARTIFACT_GEO", request: rtReq(`{"channel":"web","geo":`+g+`}`, e, p)})
		}
		cs = append(cs, rtCase{name: "geo tokens " + g, artifact: "TEST_ARTIFACT_AB_MULTI_SIMPLE", request: rtReq(`{"channel":"web","geo":`+g+`}`, `{"mboxes":[{"name":"mbox-magician","index":1}]}`, `{"mboxes":[{"name":"mbox-salutations","index":1}]}`)})
	}
	for _, v := range []string{"$", "${mbox.user}", "$${user}", "\\", "$&", "$1", "ü", "<script>", "", " ", "a\u0000b", "${", "}", "$'", "$\x60"} {
		b, _ := json.Marshal(v)
		pj := `{"user":` + string(b) + `,"greeting":` + string(b) + `}`
		cs = append(cs, rtCase{name: "macro value " + v, artifact: "TEST_ARTIFACT_CAMPAIGN_MACROS",
			request: rtReq(`{"channel":"web"}`, `{"mboxes":[{"name":"mbox-macros","index":1,"parameters":`+pj+`}],"pageLoad":{"parameters":`+pj+`}}`, `{"views":[{"name":"contact","parameters":`+pj+`}]}`)})
	}
	return cs
}

func rtCtxFieldCases() []rtCase {
	var cs []rtCase
	for _, c := range []string{
		`{"channel":"mobile","mobilePlatform":{"deviceName":"Pixel","deviceType":"phone","platformType":"android","version":"14"},"screen":{"width":1080,"height":2400,"orientation":"portrait","colorDepth":24,"pixelRatio":2.5},"window":{"width":400,"height":800}}`,
		`{"channel":"web","browser":{"host":"www.example.com","language":"fr-FR","webGLRenderer":"x"},"address":{"url":"https://www.example.com/p"}}`,
		`{"channel":"web","beacon":true}`,
		`{"channel":"web","userAgent":"Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile","clientHints":{"mobile":true,"model":"Pixel 7","platform":"Android","platformVersion":"14.0.0","architecture":"arm","bitness":"64"}}`,
		`{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15","clientHints":{"platform":"Windows"}}`,
		`{"channel":"web","userAgent":"Mozilla/5.0 (Windows NT 10.0) Firefox/121.0","clientHints":{"browserUAWithMajorVersion":"\"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\""}}`,
		`{"channel":"web","userAgent":"Mozilla/5.0 (Windows NT 10.0) Firefox/121.0","clientHints":{"browserUAWithFullVersion":"\"Google Chrome\";v=\"120.0.1\"","browserUAWithMajorVersion":"\"Microsoft Edge\";v=\"119\""}}`,
	} {
		cs = append(cs, rtCase{name: "ctx " + c, artifact: "TEST_ARTIFACT_BROWSER", request: rtReq(c, `{"mboxes":[{"name":"mbox-browsers","index":1}]}`, "", `"trace":{"authorizationToken":"x"}`)})
	}
	return cs
}
