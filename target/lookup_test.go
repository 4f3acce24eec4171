package target_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

type heroOffer struct {
	Headline string `json:"headline"`
	Size     int    `json:"size"`
}

func TestLookupsAndContent(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, targettest.Config{Offers: targettest.Offers{
		Mboxes: map[string]targettest.Offer{
			"hero":  {Options: []target.Option{jsonOption(`{"headline":"Sale","size":3}`)}},
			"promo": {Options: []target.Option{htmlOption("<b>promo</b>")}},
		},
		Views: map[string]targettest.Offer{"home": {Options: []target.Option{htmlOption("<i>home</i>")}}},
	}})
	req := offersRequest("hero", "empty")
	req.Prefetch = &target.PrefetchRequest{
		Mboxes: []target.MboxRequest{{Name: "promo"}},
		Views:  []target.ViewRequest{{Name: "home"}},
	}
	res, err := c.GetOffers(t.Context(), target.GetOffersOptions{Request: req}).Await(t.Context())
	require.NoError(t, err)

	m, ok := res.Mbox("hero")
	require.True(t, ok)
	assert.Equal(t, "hero", m.Name)
	empty, ok := res.Mbox("empty")
	require.True(t, ok, "the edge answers an mbox without offers")
	assert.Empty(t, empty.Options)
	_, ok = res.Mbox("promo")
	assert.False(t, ok, "promo was prefetched, not executed")
	p, ok := res.PrefetchedMbox("promo")
	require.True(t, ok)
	assert.NotEmpty(t, p.Options[0].EventToken)
	_, ok = res.PrefetchedMbox("hero")
	assert.False(t, ok)
	v, ok := res.View("home")
	require.True(t, ok)
	assert.Equal(t, "home", v.Name)
	_, ok = res.View("cart")
	assert.False(t, ok)

	hero, err := target.MboxContent[heroOffer](res, "hero")
	require.NoError(t, err)
	assert.Equal(t, heroOffer{Headline: "Sale", Size: 3}, hero)
	html, err := target.MboxContent[string](res, "promo")
	require.NoError(t, err, "falls back to the prefetched decision")
	assert.Equal(t, "<b>promo</b>", html)
	generic, err := target.MboxContent[map[string]any](res, "hero")
	require.NoError(t, err)
	assert.Equal(t, "Sale", generic["headline"])

	// The README's Mboxes[0].Options[0] panics here; these do not.
	for _, name := range []string{"empty", "missing"} {
		_, err = target.MboxContent[heroOffer](res, name)
		require.ErrorIs(t, err, target.ErrNoContent, name)
		assert.Contains(t, err.Error(), name)
	}
	_, err = target.MboxContent[int](res, "hero")
	var typeErr *json.UnmarshalTypeError
	require.ErrorAs(t, err, &typeErr, "content that does not fit the type")
	assert.NotErrorIs(t, err, target.ErrNoContent)
	_, err = target.DecodeContent[heroOffer](target.Option{Type: target.OptionTypeJSON})
	require.ErrorIs(t, err, target.ErrNoContent)

	var nilResp *target.Response
	_, ok = nilResp.Mbox("hero")
	assert.False(t, ok)
	_, err = target.MboxContent[string](nilResp, "hero")
	require.ErrorIs(t, err, target.ErrNoContent)
}

// TestResultTypesMarshalCamelCase: every exported field of the result
// types has a camelCase json name, as the Delivery API's own types do.
func TestResultTypesMarshalCamelCase(t *testing.T) {
	t.Parallel()
	for _, v := range []any{target.Response{}, target.Meta{}, target.Cookie{}, target.Timings{}} {
		typ := reflect.TypeOf(v)
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			require.NotEmpty(t, name, "%s.%s has no json name", typ.Name(), f.Name)
			assert.True(t, unicode.IsLower(rune(name[0])), "%s.%s: %q", typ.Name(), f.Name, name)
			assert.True(t, strings.EqualFold(name, f.Name), "%s.%s: %q", typ.Name(), f.Name, name)
		}
	}

	c, _ := setup(t, targettest.Config{Offers: offers})
	a, err := c.GetAttributes(t.Context(), []string{"flags"}, target.GetAttributesOptions{}).Await(t.Context())
	require.NoError(t, err)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, map[string]any{"flags": map[string]any{"color": "red", "size": 3.0, "beta": true, "ratio": 1.5}}, got["attributes"])
	resp := got["response"].(map[string]any)
	for _, key := range []string{"request", "response", "status", "targetCookie", "targetLocationHintCookie", "meta", "timings"} {
		assert.Contains(t, resp, key)
	}
	assert.Equal(t, "mbox", resp["targetCookie"].(map[string]any)["name"])
	assert.Contains(t, resp["timings"], "timeToFirstByte")
	assert.Equal(t, "server-side", resp["meta"].(map[string]any)["decisioningMethod"])
}
