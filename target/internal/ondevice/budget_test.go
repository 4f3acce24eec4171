package ondevice_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target/delivery"
	"github.com/target-go/sdk/target/internal/ondevice"
)

// A hostile artifact: a rule whose condition nests some 40 deep
// (2^40 steps for json-logic-js) before a rule that matches. The first
// rule goes over the evaluation budget and does not match; the decision
// goes on to the second, and the logger names the rule.
func TestRuleOverBudgetDoesNotMatch(t *testing.T) {
	t.Parallel()
	cond := "false"
	for range 40 {
		cond = `{"some":[[1,2],` + cond + `]}`
	}
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"hostile","activityId":1,"condition":` + cond + `,"consequence":{"name":"m","options":[{"type":"html","content":"never"}]}},
		{"ruleKey":"fine","activityId":2,"condition":true,"consequence":{"name":"m","options":[{"type":"html","content":"fine"}]}}]}}}`))
	require.NoError(t, err)
	var log bytes.Buffer
	e := &ondevice.Engine{Client: "acme", NewID: newID(), Logger: slog.New(slog.NewTextHandler(&log, nil))}
	req := &delivery.Request{Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}}}
	d, err := e.Decide(t.Context(), a, req, ondevice.Options{SessionID: "s"})
	require.NoError(t, err)
	require.Len(t, d.Response.Execute.Mboxes, 1)
	var contents []string
	for _, o := range d.Response.Execute.Mboxes[0].Options {
		contents = append(contents, string(o.Content))
	}
	assert.Equal(t, []string{`"fine"`}, contents)
	assert.True(t, strings.Contains(log.String(), "ruleKey=hostile"), log.String())
}

// Decide checks its context between rules and fails with its error rather
// than answer with rules skipped.
func TestDecideEndsWithItsContext(t *testing.T) {
	t.Parallel()
	a, err := ondevice.ParseArtifact([]byte(`{"version":"1.0.0","localMboxes":["m"],"rules":{"mboxes":{"m":[
		{"ruleKey":"a","activityId":1,"condition":true,"consequence":{"name":"m","options":[{"type":"html","content":"a"}]}}]}}}`))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := &delivery.Request{Execute: &delivery.ExecuteRequest{Mboxes: []delivery.MboxRequest{{Name: "m", Index: 1}}}}
	d, err := (&ondevice.Engine{Client: "acme", NewID: newID()}).Decide(ctx, a, req, ondevice.Options{SessionID: "s"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, d)
}
