package ondevice_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// blockArtifact has five mboxes, each answering with two options whose
// content is its own mbox parameter p and with an event token of its own:
// more mboxes, options and tokens than a decision block holds room for.
func blockArtifact() string {
	var mboxes, names []string
	for i := range 5 {
		names = append(names, fmt.Sprintf(`"m%d"`, i))
		mboxes = append(mboxes, fmt.Sprintf(`"m%d":[{"ruleKey":"r%d","activityId":%d,
			"meta":{"activity.id":%d},"condition":{"==":[{"var":"mbox.p"},"%d"]},
			"consequence":{"name":"m%d","options":[{"type":"html","content":"<p>${mbox.p}</p>","eventToken":"t%d"},{"type":"json","content":{"n":%d}}],
			"metrics":[{"type":"click","eventToken":"c%d"}]}}]`, i, i, i+1, i+1, i, i, i, i, i))
	}
	return `{"version":"1.0.0","localMboxes":[` + strings.Join(names, ",") + `],"responseTokens":["activity.id"],"rules":{"mboxes":{` + strings.Join(mboxes, ",") + `}}}`
}

func blockRequest() string {
	var mboxes []string
	for i := range 5 {
		mboxes = append(mboxes, fmt.Sprintf(`{"name":"m%d","index":%d,"parameters":{"p":"%d"}}`, i, i+1, i))
	}
	return `{"id":{"tntId":"v"},"context":{"channel":"web"},"execute":{"mboxes":[` + strings.Join(mboxes, ",") + `]}}`
}

// A decision larger than its block's room answers every mbox from its own
// parameters (each mbox's details at an address of its own), and the
// response's lists do not share room: appending to one leaves the next
// as it was.
func TestDecisionOutgrowsItsBlock(t *testing.T) {
	t.Parallel()
	d, err := decideJSON(t, &ondevice.Engine{Client: "acme", NewID: newID()}, []byte(blockArtifact()), []byte(blockRequest()))
	require.NoError(t, err)
	mboxes := d.Response.Execute.Mboxes
	require.Len(t, mboxes, 5)
	for i, m := range mboxes {
		assert.Equal(t, fmt.Sprintf("m%d", i), m.Name)
		require.Len(t, m.Options, 2, m.Name)
		assert.JSONEq(t, fmt.Sprintf(`"<p>%d</p>"`, i), string(m.Options[0].Content), m.Name)
		assert.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i), string(m.Options[1].Content), m.Name)
		assert.Equal(t, fmt.Sprint(i+1), fmt.Sprint(m.Options[0].ResponseTokens["activity.id"]), m.Name)
	}
	require.Len(t, d.Notifications, 5)
	for i, n := range d.Notifications {
		assert.Equal(t, []string{fmt.Sprintf("t%d", i)}, n.Tokens)
		assert.Equal(t, fmt.Sprintf("m%d", i), n.Mbox.Name)
	}

	for i := range mboxes[:4] {
		mboxes[i].Options = append(mboxes[i].Options, delivery.Option{Type: "html", Content: []byte(`"added"`)})
		d.Notifications[i].Tokens = append(d.Notifications[i].Tokens, "added")
	}
	for i := 1; i < 5; i++ {
		assert.JSONEq(t, fmt.Sprintf(`"<p>%d</p>"`, i), string(mboxes[i].Options[0].Content))
		assert.Equal(t, fmt.Sprintf("t%d", i), d.Notifications[i].Tokens[0])
	}
	d.Notifications = append(d.Notifications, delivery.Notification{ID: "added"})
	_ = append(mboxes, delivery.MboxResponse{Name: "added"})
	assert.Len(t, d.Response.Execute.Mboxes, 5)
}

// An execute decision mints its request id and its first notification's
// two ids in one NewIDs call; later notifications take two at a time.
func TestDecisionMintsIDsTogether(t *testing.T) {
	t.Parallel()
	var calls []int
	n := 0
	e := &ondevice.Engine{Client: "acme", NewID: func() string { panic("NewID called with NewIDs set") }, NewIDs: func(dst []string) {
		calls = append(calls, len(dst))
		for i := range dst {
			n++
			dst[i] = fmt.Sprint("id-", n)
		}
	}}
	d, err := decideJSON(t, e, []byte(blockArtifact()), []byte(blockRequest()))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2, 2, 2, 2}, calls)
	assert.Equal(t, "id-1", d.Request.RequestID)
	seen := map[string]bool{d.Request.RequestID: true}
	for _, note := range d.Notifications {
		for _, id := range []string{note.ID, note.ImpressionID} {
			assert.False(t, seen[id], "id %s given twice", id)
			seen[id] = true
		}
	}
	assert.Len(t, seen, 11)

	// A prefetch decision with its request id given mints nothing.
	calls = nil
	_, err = decideJSON(t, e, []byte(blockArtifact()), []byte(`{"requestId":"r","id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"m0","index":1,"parameters":{"p":"0"}}]}}`))
	require.NoError(t, err)
	assert.Empty(t, calls)
}

// A satisfied rule whose options carry nothing to show (an execute answer
// drops options without type or content; a consequence may list none)
// answers with an empty options list, as Adobe's engine does, never
// without the list: the global mbox's entries, a prefetched mbox and a
// view each keep "options": [] beside the entries that have content.
func TestEmptyOptionsStayLists(t *testing.T) {
	t.Parallel()
	const artifact = `{"version":"1.0.0","localMboxes":["target-global-mbox","m"],"localViews":["v"],"rules":{
		"mboxes":{
			"target-global-mbox":[
				{"ruleKey":"a","activityId":1,"condition":true,"consequence":{"name":"target-global-mbox","options":[{"eventToken":"ta"}],"metrics":[{"type":"click","eventToken":"ca"}]}},
				{"ruleKey":"b","activityId":1,"condition":true,"consequence":{"name":"target-global-mbox","options":[{"type":"actions","content":[{"type":"setHtml","content":"b"}],"eventToken":"tb"}]}},
				{"ruleKey":"c","activityId":2,"condition":true,"consequence":{"name":"target-global-mbox","options":[{"eventToken":"tc"}]}}],
			"m":[{"ruleKey":"m","activityId":3,"condition":true,"consequence":{"name":"m","options":[]}}]},
		"views":{"v":[{"ruleKey":"v","activityId":4,"condition":true,"consequence":{"name":"v","options":[]}}]}}}`
	const request = `{"id":{"tntId":"v"},"context":{"channel":"web"},
		"execute":{"mboxes":[{"name":"target-global-mbox","index":1}]},
		"prefetch":{"mboxes":[{"name":"m","index":2}],"views":[{"name":"v"}]}}`
	resp := decide(t, artifact, request)
	out, err := json.Marshal(resp)
	require.NoError(t, err)
	var got struct {
		Execute struct {
			Mboxes []struct {
				Options *[]map[string]any `json:"options"`
			} `json:"mboxes"`
		} `json:"execute"`
		Prefetch struct {
			Mboxes []struct {
				Options *[]map[string]any `json:"options"`
			} `json:"mboxes"`
			Views []struct {
				Options *[]map[string]any `json:"options"`
			} `json:"views"`
		} `json:"prefetch"`
	}
	require.NoError(t, json.Unmarshal(out, &got), string(out))
	ex := got.Execute.Mboxes
	require.Len(t, ex, 3, string(out))
	for i, want := range []int{0, 1, 0} {
		require.NotNil(t, ex[i].Options, "execute entry %d has no options list: %s", i, out)
		assert.Len(t, *ex[i].Options, want, "execute entry %d", i)
	}
	require.Len(t, got.Prefetch.Mboxes, 1, string(out))
	require.NotNil(t, got.Prefetch.Mboxes[0].Options, "prefetched mbox has no options list: %s", out)
	assert.Empty(t, *got.Prefetch.Mboxes[0].Options)
	require.Len(t, got.Prefetch.Views, 1, string(out))
	require.NotNil(t, got.Prefetch.Views[0].Options, "view has no options list: %s", out)
	assert.Empty(t, *got.Prefetch.Views[0].Options)
}

// Every place that takes a list from the block's room answers an empty
// list as Adobe's engine does (its Node.js SDK 2.x, run on this artifact
// and request): "options": [] for an execute mbox whose options are all
// blank, a prefetched mbox or view whose consequence has no options, and a
// page load, executed or prefetched, with no satisfied rule or only blank
// options; no "options" for an mbox no rule answers.
func TestEmptyListsFromTheBlock(t *testing.T) {
	t.Parallel()
	const artifact = `{"version":"1.0.0","localMboxes":["target-global-mbox","m","n","u"],"localViews":["v"],"rules":{
		"mboxes":{
			"target-global-mbox":[{"ruleKey":"a","activityId":1,"condition":{"==":[{"var":"mbox.x"},"1"]},"consequence":{"name":"target-global-mbox","options":[{"eventToken":"ta"}]}}],
			"m":[{"ruleKey":"m","activityId":3,"condition":true,"consequence":{"name":"m","metrics":[]}}],
			"n":[{"ruleKey":"n","activityId":5,"condition":true,"consequence":{"name":"n","options":[{"eventToken":"tn"}],"metrics":[]}}],
			"u":[{"ruleKey":"u","activityId":6,"condition":false,"consequence":{"name":"u","options":[{"type":"html","content":"x"}],"metrics":[]}}]},
		"views":{"v":[{"ruleKey":"v","activityId":4,"condition":true,"consequence":{"name":"v","metrics":[]}}]}}}`
	shape := func(request string) string {
		t.Helper()
		resp := decide(t, artifact, request)
		for _, k := range []string{"id", "requestId", "client", "status"} {
			delete(resp, k)
		}
		out, err := json.Marshal(resp)
		require.NoError(t, err)
		return string(out)
	}
	assert.JSONEq(t, `{
		"execute":{"mboxes":[{"name":"n","index":1,"options":[]},{"name":"u","index":2}],"pageLoad":{"options":[]}},
		"prefetch":{"mboxes":[{"name":"m","index":3,"options":[]},{"name":"u","index":4}],"views":[{"name":"v","metrics":[],"options":[]}],"pageLoad":{"options":[]}}}`,
		shape(`{"id":{"tntId":"v1"},"context":{"channel":"web"},
			"execute":{"mboxes":[{"name":"n","index":1},{"name":"u","index":2}],"pageLoad":{}},
			"prefetch":{"mboxes":[{"name":"m","index":3},{"name":"u","index":4}],"views":[{"name":"v"}],"pageLoad":{}}}`))
	assert.JSONEq(t, `{"execute":{"pageLoad":{"options":[]}}}`,
		shape(`{"id":{"tntId":"v1"},"context":{"channel":"web"},"execute":{"pageLoad":{"parameters":{"x":"1"}}}}`))
}
