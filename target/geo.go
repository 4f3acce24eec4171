package target

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/target-go/sdk/target/internal/jsonlogic"
)

// Geo lookup for on-device decisions: when the artifact has geo-targeted
// rules and a request carries no geo data (at most an IP address), the
// engine asks Target's CDN what it knows about the address. The answer
// uses the header names of the CDN's geo headers as keys.

// defaultGeoLocation is Target's geo lookup endpoint.
const defaultGeoLocation = "https://assets.adobetarget.com/v1/geo"

// geoFromPayload reads a geo lookup answer. Numbers may come as JSON
// numbers or strings; anything unreadable is left out.
func geoFromPayload(payload map[string]any) *Geo {
	g := &Geo{}
	str := func(key string) string {
		switch v := payload[key].(type) {
		case string:
			return v
		case float64:
			return jsonlogic.NumberString(v)
		}
		return ""
	}
	num := func(key string) *float64 {
		switch v := payload[key].(type) {
		case float64:
			return &v
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return &f
			}
		}
		return nil
	}
	g.Latitude = num("x-geo-latitude")
	g.Longitude = num("x-geo-longitude")
	g.CountryCode = str("x-geo-country-code")
	g.StateCode = str("x-geo-region-code")
	g.City = str("x-geo-city")
	return g
}

// geoScrubber shows the cause of a failed geo lookup.
var geoScrubber = scrubber{url: withoutQuery}

// httpGeoLookup returns a lookup against location (the default endpoint
// when empty) through client.
func httpGeoLookup(client *http.Client, location string) func(context.Context, string) (*Geo, error) {
	if location == "" {
		location = defaultGeoLocation
	}
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, ip string) (*Geo, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
		if err != nil {
			return nil, err
		}
		if ip != "" {
			req.Header.Set("X-Forwarded-For", ip)
		}
		resp, err := client.Do(req)
		if err != nil {
			// As for artifacts: no *url.Error in the chain quotes the
			// location's query.
			return nil, fmt.Errorf("geo lookup: %w", geoScrubber.wrap(stripURLErrors(err)))
		}
		defer resp.Body.Close()
		if err := answeredElsewhere(req, resp); err != nil {
			return nil, &TransportError{Op: "GET " + location, Host: req.URL.Host, Attempts: 1, Err: err}
		}
		if resp.StatusCode != http.StatusOK {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			return nil, fmt.Errorf("geo lookup: HTTP status %d", resp.StatusCode)
		}
		var payload map[string]any
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&payload); err != nil {
			return nil, fmt.Errorf("geo lookup: %w", err)
		}
		return geoFromPayload(payload), nil
	}
}
