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

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targetotel"
)

// secretFields are the string fields of the request model that must never
// appear in an error or a log record, keyed "Type.Field": visitor ids,
// tokens that grant something, and what identifies a visitor or an order.
var secretFields = map[string]bool{
	"VisitorID.TntID":                     true,
	"VisitorID.ThirdPartyID":              true,
	"VisitorID.MarketingCloudVisitorID":   true,
	"CustomerID.ID":                       true,
	"Property.Token":                      true,
	"Trace.AuthorizationToken":            true,
	"QAMode.Token":                        true,
	"Preview.Token":                       true,
	"AudienceManager.Blob":                true,
	"Order.ID":                            true,
	"Notification.Tokens":                 true,
	"NotificationMbox.State":              true,
	"NotificationView.State":              true,
	"NotificationPageLoad.State":          true,
	"TelemetryEntry.TelemetryServerToken": true,
	"Geo.IPAddress":                       true,
	// Profile parameters are attributes of one visitor's profile (an
	// email, a loyalty number, what the CRM knows).
	"RequestDetails.ProfileParameters[value]": true,
	// Mbox parameters carry per-visitor data too: search terms, entity
	// ids, at.js's mbox3rdPartyId and "profile."-prefixed attributes.
	"RequestDetails.Parameters[value]": true,
}

// notSecret are every other string field of the request model, keyed
// "Type.Field", with the reason it may appear in errors. A string field
// added to the model later is in neither set, and TestRedactionEveryIDField
// fails until it is classified.
var notSecret = map[string]string{
	"Request.RequestID":                     "the call's own id, reported in every error on purpose",
	"Request.ImpressionID":                  "a random id of the page view, for deduplication",
	"Notification.ID":                       "the caller's id of the notification, echoed in the answer",
	"Notification.ImpressionID":             "a random id of the page view",
	"Notification.Type":                     "an enum (display, click)",
	"TelemetryEntry.RequestID":              "the request id of an earlier call, reported in its own errors",
	"TelemetryEntry.Mode":                   "an enum (edge, local)",
	"TelemetryFeatures.DecisioningMethod":   "an enum",
	"AnalyticsRequest.SupplementalDataID":   "random per call, for stitching with Analytics",
	"AnalyticsRequest.Logging":              "an enum (server_side, client_side)",
	"AnalyticsRequest.TrackingServer":       "the customer's Analytics host, the same for every visitor",
	"AnalyticsRequest.TrackingServerSecure": "the customer's Analytics host, the same for every visitor",
	"Application.ID":                        "the mobile application's id, the same for every visitor",
	"Application.Name":                      "the mobile application's name, the same for every visitor",
	"Application.Version":                   "the mobile application's version",
	"Product.ID":                            "a catalog id, the same for every visitor",
	"Product.CategoryID":                    "a catalog id, the same for every visitor",
	"Order.PurchasedProductIDs":             "catalog ids, the same for every visitor",
	"Order.Time":                            "a timestamp",
	"Address.URL":                           "the page asked for, which the edge may name in its message",
	"Address.ReferringURL":                  "the referring page, which the edge may name in its message",
	"Browser.Host":                          "the site's host, the same for every visitor",
	"Browser.Language":                      "a language tag",
	"Browser.WebGLRenderer":                 "a device model string shared by many visitors",
	"ClientHints.Architecture":              "a user agent client hint shared by many visitors",
	"ClientHints.Bitness":                   "a user agent client hint shared by many visitors",
	"ClientHints.BrowserUAWithFullVersion":  "a user agent client hint shared by many visitors",
	"ClientHints.BrowserUAWithMajorVersion": "a user agent client hint shared by many visitors",
	"ClientHints.Model":                     "a user agent client hint shared by many visitors",
	"ClientHints.Platform":                  "a user agent client hint shared by many visitors",
	"ClientHints.PlatformVersion":           "a user agent client hint shared by many visitors",
	"Context.Channel":                       "an enum (web, mobile)",
	"Context.UserAgent":                     "a user agent shared by many visitors",
	"CustomerID.AuthenticatedState":         "an enum",
	"CustomerID.IntegrationCode":            "the customer's name for an id source, the same for every visitor",
	"Geo.City":                              "a coarse location shared by many visitors",
	"Geo.CountryCode":                       "a coarse location shared by many visitors",
	"Geo.StateCode":                         "a coarse location shared by many visitors",
	"Geo.Zip":                               "a coarse location shared by many visitors",
	"MboxRequest.Name":                      "the customer's mbox name, the same for every visitor",
	"NotificationMbox.Name":                 "the customer's mbox name, the same for every visitor",
	"NotificationView.Name":                 "the customer's view name, the same for every visitor",
	"NotificationView.Key":                  "the customer's view key, the same for every visitor",
	"ViewRequest.Name":                      "the customer's view name, the same for every visitor",
	"ViewRequest.Key":                       "the customer's view key, the same for every visitor",
	"MobilePlatform.DeviceName":             "a device model shared by many visitors",
	"MobilePlatform.DeviceType":             "an enum (phone, tablet)",
	"MobilePlatform.PlatformType":           "an enum (android, ios)",
	"MobilePlatform.Version":                "an OS version",
	"Screen.Orientation":                    "an enum (portrait, landscape)",
	"RequestDetails.Parameters[key]":        "a parameter name the customer chose, the same for every visitor",
	"RequestDetails.ProfileParameters[key]": "an attribute name the customer chose, the same for every visitor",
	"Trace.Usage[key]":                      "the SDK's usage and diagnostics names, the same for every visitor",
	"Trace.Usage[value]":                    "the SDK's usage and diagnostics metadata, not the visitor's",
}

// idName picks, among the fields that are not secret, those whose values
// the test fills too: ids that must survive redaction, so that the test
// can tell redaction from a message blanked whole.
var idName = regexp.MustCompile(`(ID|IDs)$`)

type secretField struct {
	key, path, value string
}

// fillIDs sets every secret string (and []string) field of v, and the ids
// that are not secret, to a value of its own, allocating pointers and one
// element of every slice on the way, and returns what it set. Every map
// gets one entry, its key and its value each a value of its own, classified
// as "Type.Field[key]" and "Type.Field[value]". A string or map field found
// is a key of unclassified, true when in neither secretFields nor
// notSecret; so is a field of any other kind that could hold text (an
// interface, raw bytes, a map or slice of something else), which the walk
// cannot fill and a later field of the model must not slip through as.
func fillIDs(v reflect.Value, path string, out *[]secretField, unclassified map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillIDs(v.Elem(), path, out, unclassified)
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
			isString := fv.Kind() == reflect.String ||
				fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String
			_, allowed := notSecret[key]
			if isString {
				unclassified[key] = !secretFields[key] && !allowed
			}
			named := secretFields[key] || allowed && idName.MatchString(f.Name)
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
				fillIDs(fv.Index(0), p+"[0]", out, unclassified)
			case fv.Kind() == reflect.Map && fv.Type().Key().Kind() == reflect.String && fv.Type().Elem().Kind() == reflect.String:
				m := reflect.MakeMap(fv.Type())
				k := reflect.ValueOf(fmt.Sprintf("zq%03dzq", len(*out))).Convert(fv.Type().Key())
				*out = append(*out, secretField{key + "[key]", p + "[key]", k.String()})
				val := reflect.ValueOf(fmt.Sprintf("zq%03dzq", len(*out))).Convert(fv.Type().Elem())
				*out = append(*out, secretField{key + "[value]", p + "[" + k.String() + "]", val.String()})
				m.SetMapIndex(k, val)
				fv.Set(m)
				for _, part := range []string{"[key]", "[value]"} {
					_, ok := notSecret[key+part]
					unclassified[key+part] = !secretFields[key+part] && !ok
				}
			case fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Struct:
				fillIDs(fv, p, out, unclassified)
			case !isString && !plainKind(fv.Type()):
				unclassified[key] = !secretFields[key] && !allowed
			}
		}
	}
}

// plainKind reports whether a field of type t holds no text: a number, a
// bool, or a pointer to or slice of those.
func plainKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer, reflect.Slice:
		return plainKind(t.Elem())
	}
	return false
}

// TestRedactionWalkFlagsNewFields: the walk reports every field a later
// model could add that might hold text (a string, a map's keys and values,
// an interface, raw bytes) as unclassified, and nothing that cannot.
func TestRedactionWalkFlagsNewFields(t *testing.T) {
	t.Parallel()
	type laterModel struct {
		Note   string
		Extra  map[string]string
		Any    any
		Raw    []byte
		Nested []struct{ Label string }
		Count  int
		Lat    *float64
		Flags  []bool
	}
	var m laterModel
	var fields []secretField
	unclassified := map[string]bool{}
	fillIDs(reflect.ValueOf(&m).Elem(), "M", &fields, unclassified)
	assert.Equal(t, map[string]bool{
		"laterModel.Note": true, "laterModel.Extra[key]": true, "laterModel.Extra[value]": true,
		"laterModel.Any": true, "laterModel.Raw": true, ".Label": true,
	}, unclassified)
	assert.Len(t, m.Extra, 1, "the map is filled, so that its entry reaches the wire")
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
	unclassified := map[string]bool{}
	fillIDs(reflect.ValueOf(&req).Elem(), "Request", &fields, unclassified)
	require.Greater(t, len(fields), 10, "the walk found the model's id fields")
	for key, bad := range unclassified {
		if !bad {
			continue
		}
		t.Errorf("%s may hold text and is in neither secretFields nor notSecret: classify it", key)
	}
	for key := range secretFields {
		found := false
		for _, f := range fields {
			found = found || f.key == key
		}
		assert.True(t, found, "secretFields lists %s, which the model no longer has", key)
	}

	// Make the request valid without touching the ids.
	req.Context.Channel = target.ChannelWeb
	req.Execute.Mboxes[0].Name = "m"
	req.Prefetch.Mboxes[0].Name = "m"
	req.Prefetch.Views[0].Name = "v"
	req.Notifications[0].Mbox.Name = "m" // the edge refuses an mbox notification without a name
	req.Notifications[0].Type = target.MetricTypeDisplay
	// One kind per notification: the view's state goes in a second one.
	view := req.Notifications[0]
	view.ID, view.Mbox, view.PageLoad = "n2", nil, nil
	req.Notifications[0].View = nil
	req.Notifications = append(req.Notifications, view)
	// The geo address must be an IP address to pass.
	req.Context.Geo.IPAddress = "198.51.100.77"
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
		case "Geo.IPAddress":
			fields[i].value = req.Context.Geo.IPAddress
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
		_, found := unclassified[key]
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
	// The same table holds for what the call reports to OpenTelemetry (span
	// names, attributes, events, statuses; metric attributes) and for the
	// bodies logged with LogBodies.
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := targetotel.New(targetotel.Options{TracerProvider: tp, MeterProvider: mp, Propagator: propagation.TraceContext{}})
	require.NoError(t, err)
	c, err := target.NewClient(target.Config{
		Client: "acme", OrganizationID: "org",
		HTTPClient: &http.Client{Transport: inProcess{http.HandlerFunc(echo)}},
		Logger:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:      target.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Observer:   obs,
		LogBodies:  true,
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
	require.Contains(t, out, `"msg":"target: call"`)
	require.Contains(t, out, "target: response body")
	texts := map[string]string{"log": out}
	recorded := spans.Ended()
	require.Len(t, recorded, 3, "the call and its two attempts")
	texts["spans"] = fmt.Sprintf("%+v", tracetest.SpanStubsFromReadOnlySpans(recorded))
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	texts["metrics"] = fmt.Sprintf("%+v", rm)
	require.Contains(t, texts["spans"], "[redacted]", "the spans carry the redacted error")
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
