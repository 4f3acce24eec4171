package targettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"

	"github.com/target-go/sdk/target"
)

// Offers is what the edge answers with, by location. A location with no
// offer is answered without content, as the real edge answers an mbox no
// activity targets: an mbox response with only its index and name.
//
// Its JSON form (the standalone edge's -offers file) uses the Delivery
// API's own names:
//
//	{"mboxes": {"hero": {"options": [{"type": "html", "content": "<p>Hi</p>"}]}},
//	 "views": {"home": {"options": [...], "metrics": [...]}},
//	 "pageLoad": {"options": [...]}}
type Offers struct {
	// Mboxes maps an mbox name to its offer, for execute and prefetch.
	Mboxes map[string]Offer `json:"mboxes,omitempty"`
	// Views maps a view name to its offer, for prefetch; a prefetch view
	// request without a name gets every view, in name order.
	Views map[string]Offer `json:"views,omitempty"`
	// PageLoad is the offer for execute and prefetch pageLoad requests.
	PageLoad *Offer `json:"pageLoad,omitempty"`
}

// Offer is the content of one location.
//
// Prefetched options carry an event token, for the display notification
// the client sends when it shows them: the option's EventToken, or, when
// that is empty, one the edge derives from the location and the option's
// position (stable across runs). Executed options carry none, since
// execution already counted the impression. Metrics keep or get tokens the
// same way in both.
//
// Analytics is returned only to requests with
// experienceCloud.analytics.logging "client_side": with server-side
// logging the edge forwards the data to Analytics itself, so the real edge
// leaves the payload out.
type Offer struct {
	Options   []target.Option           `json:"options,omitempty"`
	Metrics   []target.Metric           `json:"metrics,omitempty"`
	Analytics *target.AnalyticsResponse `json:"analytics,omitempty"`
}

func (o Offers) validate() error {
	for name, offer := range o.Mboxes {
		if name == "" {
			return errors.New("targettest: Config.Offers.Mboxes has an empty mbox name")
		}
		if err := offer.validate(fmt.Sprintf("Offers.Mboxes[%q]", name)); err != nil {
			return err
		}
	}
	for name, offer := range o.Views {
		if name == "" {
			return errors.New("targettest: Config.Offers.Views has an empty view name")
		}
		if err := offer.validate(fmt.Sprintf("Offers.Views[%q]", name)); err != nil {
			return err
		}
	}
	if o.PageLoad != nil {
		return o.PageLoad.validate("Offers.PageLoad")
	}
	return nil
}

func (o Offer) validate(where string) error {
	for i, opt := range o.Options {
		if len(opt.Content) > 0 && !json.Valid(opt.Content) {
			return fmt.Errorf("targettest: Config.%s.Options[%d].Content is not valid JSON", where, i)
		}
	}
	return nil
}

// answer is an offer made ready for one location of one response.
func (o Offer) answer(location string, prefetch bool) ([]target.Option, []target.Metric) {
	var opts []target.Option
	if len(o.Options) > 0 {
		opts = make([]target.Option, len(o.Options))
		for i, opt := range o.Options {
			opts[i] = opt
			switch {
			case !prefetch:
				opts[i].EventToken = ""
			case opt.EventToken == "":
				opts[i].EventToken = eventToken(location, "option", i)
			}
		}
	}
	var metrics []target.Metric
	if len(o.Metrics) > 0 {
		metrics = slices.Clone(o.Metrics)
		for i := range metrics {
			if metrics[i].EventToken == "" {
				metrics[i].EventToken = eventToken(location, "metric", i)
			}
		}
	}
	return opts, metrics
}

// eventToken derives an opaque token, base64 like the edge's, from where it
// is used, so tests can tell tokens apart and runs agree on them.
func eventToken(location, kind string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", location, kind, i))
	return base64.StdEncoding.EncodeToString(sum[:18])
}

// requestError is a 4xx answer with its message.
type requestError struct {
	status  int
	message string
}

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, "Invalid request: " + fmt.Sprintf(format, args...)}
}

// writeError writes the edge's error body.
func writeError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(target.UnexpectedError{Status: status, Message: message})
	writeHeader(w, status, len(body))
	_, _ = w.Write(body)
}

// deliver validates a Delivery request and builds the answer: status, body
// (empty for 204) and, for an error, its message.
func (s *Server) deliver(r *http.Request, body []byte, req *target.DeliveryRequest, decodeErr error) (int, []byte, string) {
	rerr := s.check(r, body, decodeErr)
	if rerr != nil {
		b, _ := json.Marshal(target.UnexpectedError{Status: rerr.status, Message: rerr.message})
		return rerr.status, b, rerr.message
	}
	if req.Context.Beacon {
		return http.StatusNoContent, nil, ""
	}
	// Content goes out as configured, like the real edge's "<p>...</p>",
	// not with json.Marshal's \u003c escapes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.respond(r, req)); err != nil {
		// Only configured content could fail to encode, and Validate
		// checked it; answer as the edge would to its own failure.
		b, _ := json.Marshal(target.UnexpectedError{Status: http.StatusInternalServerError, Message: err.Error()})
		return http.StatusInternalServerError, b, err.Error()
	}
	return http.StatusOK, bytes.TrimSuffix(buf.Bytes(), []byte("\n")), ""
}

// decode decodes a Delivery request body; a nil request comes with an
// error unless the body is empty.
func decode(body []byte) (*target.DeliveryRequest, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req target.DeliveryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// check checks the query, the content type and the decoded body.
func (s *Server) check(r *http.Request, body []byte, decodeErr error) *requestError {
	q := r.URL.Query()
	switch org := q.Get("imsOrgId"); {
	case org == "":
		return badRequest("the imsOrgId query parameter is required")
	case org != s.cfg.OrganizationID:
		return badRequest("Invalid imsOrg - %s (imsOrgId is not this edge's organization)", org)
	}
	if err := checkSessionID(q.Get("sessionId")); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not application/json", ct)}
		}
	}
	if decodeErr != nil {
		return decodeError(decodeErr)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the body is empty; a DeliveryRequest is required")
	}
	var shape requestShape
	if err := json.Unmarshal(body, &shape); err != nil {
		return decodeError(err)
	}
	return shape.validate()
}

func checkSessionID(id string) *requestError {
	if id == "" {
		return badRequest("the sessionId query parameter is required")
	}
	if len(id) > 128 {
		return badRequest("sessionId is longer than 128 characters")
	}
	for _, c := range id {
		if c <= ' ' || c == '?' || c == '/' || c == 0x7f {
			return badRequest("sessionId has %q; it must be printable, without space, '?' or '/'", c)
		}
	}
	return nil
}

func decodeError(err error) *requestError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("the body is not valid JSON (offset %d): %v", syntax.Offset, err)
	case errors.As(err, &typ) && typ.Field != "":
		return badRequest("%s: a JSON %s cannot be a %v", typ.Field, typ.Value, typ.Type)
	case errors.As(err, &typ):
		return badRequest("the body must be a JSON object, not a %s", typ.Value)
	}
	return badRequest("the body cannot be decoded: %v", err)
}
