package target_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

// secretName matches the fields of the request model that hold an id or a
// token. A field added later that matches is covered by
// TestRedactionEveryIDField at once: it fails until the field is redacted
// or listed in notSecret with a reason.
var secretName = regexp.MustCompile(`(?i)(id|ids|token|tokens|blob)$`)

// notSecret are the id fields that identify no visitor and grant nothing,
// keyed "Type.Field", with the reason they may appear in errors.
var notSecret = map[string]string{
	"Request.RequestID":                   "the call's own id, reported in every error on purpose",
	"Request.ImpressionID":                "a random id of the page view, for deduplication",
	"Notification.ID":                     "the caller's id of the notification, echoed in the answer",
	"Notification.ImpressionID":           "a random id of the page view",
	"TelemetryEntry.RequestID":            "the request id of an earlier call, reported in its own errors",
	"AnalyticsRequest.SupplementalDataID": "random per call, for stitching with Analytics",
	"Application.ID":                      "the mobile application's id, the same for every visitor",
	"Product.ID":                          "a catalog id, the same for every visitor",
	"Product.CategoryID":                  "a catalog id, the same for every visitor",
	"Order.PurchasedProductIDs":           "catalog ids, the same for every visitor",
}

type secretField struct {
	key, path, value string
}

// fillIDs sets every string (and []string) field of v whose name matches
// secretName to a value of its own, allocating pointers and one element of
// every slice on the way, and returns what it set.
func fillIDs(v reflect.Value, path string, out *[]secretField) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillIDs(v.Elem(), path, out)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			p := path + "." + f.Name
			key := t.Name() + "." + f.Name
			named := secretName.MatchString(f.Name)
			switch {
			case fv.Kind() == reflect.String && named:
				val := fmt.Sprintf("zq%03dzq", len(*out))
				fv.SetString(val)
				*out = append(*out, secretField{key, p, val})
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String && named:
				val := fmt.Sprintf("zq%03dzq", len(*out))
				fv.Set(reflect.ValueOf([]string{val}).Convert(fv.Type()))
				*out = append(*out, secretField{key, p + "[0]", val})
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
				fv.Set(reflect.MakeSlice(fv.Type(), 1, 1))
				fillIDs(fv.Index(0), p+"[0]", out)
			case fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Struct:
				fillIDs(fv, p, out)
			}
		}
	}
}

// TestRedactionEveryIDField: every id and token field of DeliveryRequest
// that the request carries, found by reflection, is redacted from the error
// of a failed call under every fmt verb and from the debug records, when
// the edge quotes it as sent, a tntId also without its location hint, and
// values also URL-encoded.
func TestRedactionEveryIDField(t *testing.T) {
	t.Parallel()
	var req target.DeliveryRequest
	var fields []secretField
	fillIDs(reflect.ValueOf(&req).Elem(), "Request", &fields)
	require.Greater(t, len(fields), 10, "the walk found the model's id fields")

	// Make the request valid without touching the ids.
	req.Context.Channel = target.ChannelWeb
	req.Execute.Mboxes[0].Name = "m"
	req.Prefetch.Mboxes[0].Name = "m"
	req.Prefetch.Views[0].Name = "v"
	req.Notifications[0].Type = target.MetricTypeDisplay
	req.Notifications[0].View = nil
	req.ID.CustomerIDs[0].IntegrationCode = "crm"
	req.ExperienceCloud.Analytics.Logging = target.LoggingServerSide
	// A tntId with a location hint, which the edge may quote without it,
	// and a token with characters that URL-encoding changes.
	req.ID.TntID += ".35_0"
	req.Trace.AuthorizationToken += " a/b+c"
	req.ID.ThirdPartyID += `"<q>\`
	for i := range fields {
		switch fields[i].key {
		case "VisitorID.TntID":
			fields[i].value = req.ID.TntID
		case "Trace.AuthorizationToken":
			fields[i].value = req.Trace.AuthorizationToken
		case "VisitorID.ThirdPartyID":
			fields[i].value = req.ID.ThirdPartyID
		}
	}
	const sessionID, extraCustomer = "zqsessionzq", "zqextracustomerzq"
	jsonEscaped, _ := json.Marshal(req.ID.ThirdPartyID)
	secrets := []string{sessionID, extraCustomer, strings.TrimSuffix(req.ID.TntID, ".35_0"), strings.TrimSuffix(req.ID.TntID, "_0"),
		url.QueryEscape(req.Trace.AuthorizationToken), url.PathEscape(req.Trace.AuthorizationToken),
		string(jsonEscaped[1 : len(jsonEscaped)-1]), strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(req.ID.ThirdPartyID)}
	var allowed []string
	for _, f := range fields {
		if _, ok := notSecret[f.key]; ok {
			allowed = append(allowed, f.value)
			continue
		}
		secrets = append(secrets, f.value)
	}
	for key := range notSecret {
		found := false
		for _, f := range fields {
			found = found || f.key == key
		}
		assert.True(t, found, "notSecret lists %s, which the model no longer has", key)
	}

	// The edge quotes every secret in its message, and the whole request.
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg := string(body) + " " + strings.Join(secrets, " ") + " session " + r.URL.Query().Get("sessionId")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, `{"status":503,"message":%q}`, msg)
	}
	var logs syncBuffer
	c, err := target.NewClient(target.Config{
		Client: "acme", OrganizationID: "org",
		HTTPClient: &http.Client{Transport: inProcess{http.HandlerFunc(echo)}},
		Logger:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:      target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
	})
	require.NoError(t, err)
	_, err = c.GetOffers(t.Context(), target.GetOffersOptions{
		Request:     req,
		SessionID:   sessionID,
		CustomerIDs: []target.VisitorCustomerID{{ID: extraCustomer, IntegrationCode: "crm2"}},
	}).Await(t.Context())
	var api *target.APIError
	require.ErrorAs(t, err, &api)
	require.Equal(t, 2, api.Attempts)

	out := logs.String()
	require.Contains(t, out, "target: retrying")
	require.Contains(t, out, "target: call failed")
	texts := map[string]string{"log": out}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		texts["error "+verb] = fmt.Sprintf(verb, err)
		texts["APIError "+verb] = fmt.Sprintf(verb, *api)
	}
	require.Contains(t, texts["error %v"], "[redacted]")
	for _, f := range fields {
		if _, ok := notSecret[f.key]; ok {
			continue
		}
		for what, text := range texts {
			assert.NotContains(t, text, f.value, "%s (%s) in the %s", f.path, f.key, what)
		}
	}
	for _, s := range secrets {
		for what, text := range texts {
			assert.NotContains(t, text, s, "in the %s", what)
		}
	}
	for _, v := range allowed {
		if strings.Contains(texts["error %v"], v) {
			return // the message survived redaction where it should
		}
	}
	t.Error("no id outside the secrets survived: the redaction blanks too much to test")
}
