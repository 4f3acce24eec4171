// Package delivery holds the Adobe Target Delivery API's wire models: the
// request and response bodies of /rest/v1/delivery, one Go type per OpenAPI
// component, with the spec's JSON names.
//
// Why a package of its own: the client (package target), the on-device
// decision engine and the local edge (package targettest) all speak these
// models, and the engine and the edge must not import the client. Package
// target declares an alias for every model here (target.DeliveryRequest is
// delivery.Request, target.Geo is delivery.Geo, ...), so users write
// target.X with one import, and crossing from the client to the engine
// costs nothing: the types are the same, no copy or conversion is made.
// This follows Adobe's own SDKs (the Python SDK's delivery_api_client
// models, the Java SDK's model package) and aws-sdk-go-v2's types packages.
//
// Source of truth: Adobe's Delivery API OpenAPI specification. Optional
// fields are omitted when unset; a field is a pointer where its zero value
// is a meaningful value on the wire (a latitude of 0, a time offset of 0,
// an explicit false). Free-form values (option content, trace and
// response-token values) are kept as raw JSON or generic maps so that
// decoding and re-encoding loses nothing. The spec's "$_type"
// discriminator properties are an artefact of its Java code generator,
// carry no data and are not modelled.
//
// Encoding: Marshal is encoding/json without HTML escaping. AppendRequest
// writes the same bytes for a request field by field (appendjson.go), with
// no allocation beyond the buffer's growth (a map of more than 16 entries
// costs one, its sorted keys) and a quarter to a third of Marshal's
// instructions (callgrind, slopes between 1,000 and 11,000 runs of
// BenchmarkAppendRequest: a GetOffers request for one mbox with the
// client's ids and telemetry 7.2k against 25.4k, a two-notification
// request 15.1k against 60.0k; strings are scanned 8 bytes at a time). Under GOEXPERIMENT=jsonv2, where
// encoding/json writes invalid UTF-8 as U+FFFD itself rather than the
// escape \ufffd, AppendRequest does too (invalidutf8*.go). A property test
// and a fuzzer compare the two on random requests, odd strings (invalid
// UTF-8, U+2028, control characters, '<') and floats included, and a
// reflective filler sets every field of the model; what it does not write
// (Geo and ClientHints read with "" fields) goes to Marshal.
package delivery

import (
	"bytes"
	"encoding/json"
	"sync"
)

// ChannelType is the channel of a request (spec: ChannelType).
type ChannelType string

// Channels the edge accepts.
const (
	ChannelWeb    ChannelType = "web"
	ChannelMobile ChannelType = "mobile"
)

// DeviceType is the kind of mobile device (spec: DeviceType).
type DeviceType string

// Device types the edge accepts.
const (
	DeviceTypePhone  DeviceType = "phone"
	DeviceTypeTablet DeviceType = "tablet"
)

// MobilePlatformType is a mobile operating system (spec: MobilePlatformType).
type MobilePlatformType string

// Mobile platforms the edge accepts.
const (
	MobilePlatformAndroid MobilePlatformType = "android"
	MobilePlatformIOS     MobilePlatformType = "ios"
)

// ScreenOrientationType is a screen orientation (spec: ScreenOrientationType).
type ScreenOrientationType string

// Screen orientations the edge accepts.
const (
	ScreenOrientationPortrait  ScreenOrientationType = "portrait"
	ScreenOrientationLandscape ScreenOrientationType = "landscape"
)

// LoggingType says who forwards analytics data to Adobe Analytics (spec:
// LoggingType): the edge (server side) or the caller (client side).
type LoggingType string

// Analytics logging modes.
const (
	LoggingServerSide LoggingType = "server_side"
	LoggingClientSide LoggingType = "client_side"
)

// MetricType is the kind of event a metric or notification records (spec:
// MetricType).
type MetricType string

// Metric and notification types.
const (
	MetricTypeClick   MetricType = "click"
	MetricTypeDisplay MetricType = "display"
)

// OptionType is the kind of content an option carries (spec: OptionType).
type OptionType string

// Option content types.
const (
	OptionTypeHTML     OptionType = "html"
	OptionTypeJSON     OptionType = "json"
	OptionTypeRedirect OptionType = "redirect"
	OptionTypeDynamic  OptionType = "dynamic"
	OptionTypeActions  OptionType = "actions"
)

// ExecutionMode says where a decision was made (spec: ExecutionMode).
type ExecutionMode string

// Execution modes reported in telemetry.
const (
	ExecutionModeEdge  ExecutionMode = "edge"
	ExecutionModeLocal ExecutionMode = "local"
)

// AuthenticatedState is the state of a customer id (spec: AuthenticatedState).
type AuthenticatedState string

// Authentication states of a customer id.
const (
	AuthenticatedStateUnknown       AuthenticatedState = "unknown"
	AuthenticatedStateAuthenticated AuthenticatedState = "authenticated"
	AuthenticatedStateLoggedOut     AuthenticatedState = "logged_out"
)

// Request is the body of a Delivery API call (spec: DeliveryRequest).
// Only Context (with its Channel) is required.
type Request struct {
	RequestID       string           `json:"requestId,omitempty"`
	ImpressionID    string           `json:"impressionId,omitempty"`
	ID              *VisitorID       `json:"id,omitempty"`
	EnvironmentID   int64            `json:"environmentId,omitempty"`
	Property        *Property        `json:"property,omitempty"`
	Trace           *Trace           `json:"trace,omitempty"`
	Context         *Context         `json:"context,omitempty"`
	ExperienceCloud *ExperienceCloud `json:"experienceCloud,omitempty"`
	Execute         *ExecuteRequest  `json:"execute,omitempty"`
	Prefetch        *PrefetchRequest `json:"prefetch,omitempty"`
	Telemetry       *Telemetry       `json:"telemetry,omitempty"`
	Notifications   []Notification   `json:"notifications,omitempty"`
	QAMode          *QAMode          `json:"qaMode,omitempty"`
	Preview         *Preview         `json:"preview,omitempty"`
}

// Response is the body of a successful Delivery API answer (spec:
// DeliveryResponse).
type Response struct {
	Status               int                    `json:"status,omitempty"`
	RequestID            string                 `json:"requestId,omitempty"`
	ID                   *VisitorID             `json:"id,omitempty"`
	Client               string                 `json:"client,omitempty"`
	EdgeHost             string                 `json:"edgeHost,omitempty"`
	Execute              *ExecuteResponse       `json:"execute,omitempty"`
	Prefetch             *PrefetchResponse      `json:"prefetch,omitempty"`
	Notifications        []NotificationResponse `json:"notifications,omitempty"`
	TelemetryServerToken string                 `json:"telemetryServerToken,omitempty"`
}

// Context describes the device and page the request is made for (spec:
// Context).
type Context struct {
	Channel             ChannelType     `json:"channel"`
	MobilePlatform      *MobilePlatform `json:"mobilePlatform,omitempty"`
	Application         *Application    `json:"application,omitempty"`
	Screen              *Screen         `json:"screen,omitempty"`
	Window              *Window         `json:"window,omitempty"`
	Browser             *Browser        `json:"browser,omitempty"`
	Address             *Address        `json:"address,omitempty"`
	Geo                 *Geo            `json:"geo,omitempty"`
	TimeOffsetInMinutes *float64        `json:"timeOffsetInMinutes,omitempty"`
	UserAgent           string          `json:"userAgent,omitempty"`
	ClientHints         *ClientHints    `json:"clientHints,omitempty"`
	// Beacon asks the edge to answer 204 No Content without a body.
	Beacon bool `json:"beacon,omitempty"`
}

// MobilePlatform describes a mobile device (spec: MobilePlatform).
type MobilePlatform struct {
	DeviceName   string             `json:"deviceName,omitempty"`
	DeviceType   DeviceType         `json:"deviceType"`
	PlatformType MobilePlatformType `json:"platformType"`
	Version      string             `json:"version,omitempty"`
}

// Application describes a mobile application (spec: Application).
type Application struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Screen describes the device screen (spec: Screen).
type Screen struct {
	Width       float64               `json:"width,omitempty"`
	Height      float64               `json:"height,omitempty"`
	ColorDepth  float64               `json:"colorDepth,omitempty"`
	PixelRatio  float64               `json:"pixelRatio,omitempty"`
	Orientation ScreenOrientationType `json:"orientation,omitempty"`
}

// Window describes the browser window (spec: Window).
type Window struct {
	Width  float64 `json:"width,omitempty"`
	Height float64 `json:"height,omitempty"`
}

// Browser describes the browser (spec: Browser).
type Browser struct {
	Host          string `json:"host,omitempty"`
	Language      string `json:"language,omitempty"`
	WebGLRenderer string `json:"webGLRenderer,omitempty"`
}

// Address is a page URL and its referrer (spec: Address).
type Address struct {
	URL          string `json:"url,omitempty"`
	ReferringURL string `json:"referringUrl,omitempty"`
}

// Geo is the visitor's location; when absent the edge may resolve it from the
// IP address (spec: Geo).
type Geo struct {
	IPAddress   string   `json:"ipAddress,omitempty"`
	Latitude    *float64 `json:"latitude,omitempty"`
	Longitude   *float64 `json:"longitude,omitempty"`
	CountryCode string   `json:"countryCode,omitempty"`
	StateCode   string   `json:"stateCode,omitempty"`
	City        string   `json:"city,omitempty"`
	Zip         string   `json:"zip,omitempty"`
	// empty records the fields read from JSON as "" (see Geo.Has).
	empty geoFields
	// latitudeText and longitudeText are the coordinates read from JSON as
	// strings, as given (see Geo.Coordinate).
	latitudeText, longitudeText *string
}

// ClientHints are User-Agent client hints, used instead of the user agent when
// given (spec: ClientHints).
type ClientHints struct {
	Mobile                    *bool  `json:"mobile,omitempty"`
	Model                     string `json:"model,omitempty"`
	Platform                  string `json:"platform,omitempty"`
	PlatformVersion           string `json:"platformVersion,omitempty"`
	BrowserUAWithMajorVersion string `json:"browserUAWithMajorVersion,omitempty"`
	BrowserUAWithFullVersion  string `json:"browserUAWithFullVersion,omitempty"`
	Architecture              string `json:"architecture,omitempty"`
	Bitness                   string `json:"bitness,omitempty"`
	// emptyPlatform records a platform read from JSON as "" (see
	// HasPlatform).
	emptyPlatform bool
}

// VisitorID holds the identifiers of a visitor (spec: VisitorId). A tntId the
// edge returns may end in a location hint ".{cluster}_{node}".
type VisitorID struct {
	TntID                   string       `json:"tntId,omitempty"`
	ThirdPartyID            string       `json:"thirdPartyId,omitempty"`
	MarketingCloudVisitorID string       `json:"marketingCloudVisitorId,omitempty"`
	CustomerIDs             []CustomerID `json:"customerIds,omitempty"`
}

// CustomerID is a customer id from a data source integration (spec:
// CustomerId). All three fields are required by the edge.
type CustomerID struct {
	ID                 string             `json:"id"`
	IntegrationCode    string             `json:"integrationCode"`
	AuthenticatedState AuthenticatedState `json:"authenticatedState"`
}

// Property scopes delivery to an at_property token (spec: Property).
type Property struct {
	Token string `json:"token"`
}

// Trace enables the edge's trace output (spec: Trace). The authorization
// token is a secret: this package never logs it.
type Trace struct {
	AuthorizationToken string            `json:"authorizationToken"`
	Usage              map[string]string `json:"usage,omitempty"`
}

// ExperienceCloud holds Audience Manager and Analytics integration settings
// (spec: ExperienceCloud).
type ExperienceCloud struct {
	AudienceManager *AudienceManager  `json:"audienceManager,omitempty"`
	Analytics       *AnalyticsRequest `json:"analytics,omitempty"`
}

// AudienceManager holds Audience Manager integration data (spec:
// AudienceManager).
type AudienceManager struct {
	LocationHint int    `json:"locationHint,omitempty"`
	Blob         string `json:"blob,omitempty"`
}

// AnalyticsRequest holds Analytics for Target settings (spec:
// AnalyticsRequest).
type AnalyticsRequest struct {
	// SupplementalDataID stitches Target and Analytics hits for server-side
	// logging: 16 hex digits, a dash, 16 hex digits.
	SupplementalDataID   string      `json:"supplementalDataId,omitempty"`
	Logging              LoggingType `json:"logging,omitempty"`
	TrackingServer       string      `json:"trackingServer,omitempty"`
	TrackingServerSecure string      `json:"trackingServerSecure,omitempty"`
}

// ExecuteRequest asks for decisions evaluated now, counting impressions (spec:
// ExecuteRequest).
type ExecuteRequest struct {
	PageLoad *RequestDetails `json:"pageLoad,omitempty"`
	Mboxes   []MboxRequest   `json:"mboxes,omitempty"`
}

// PrefetchRequest asks for content to be shown later; each prefetched option
// carries an event token for the display notification (spec: PrefetchRequest).
type PrefetchRequest struct {
	Views    []ViewRequest   `json:"views,omitempty"`
	PageLoad *RequestDetails `json:"pageLoad,omitempty"`
	Mboxes   []MboxRequest   `json:"mboxes,omitempty"`
}

// RequestDetails are the parameters shared by page-load, mbox, view and
// notification requests (spec: RequestDetails).
type RequestDetails struct {
	Address           *Address   `json:"address,omitempty"`
	Parameters        Parameters `json:"parameters,omitempty"`
	ProfileParameters Parameters `json:"profileParameters,omitempty"`
	Order             *Order     `json:"order,omitempty"`
	Product           *Product   `json:"product,omitempty"`
}

// MboxRequest asks for the content of one regional mbox (spec: MboxRequest).
// Index correlates the request with its response and must be unique in its
// list.
type MboxRequest struct {
	RequestDetails
	Index int    `json:"index"`
	Name  string `json:"name,omitempty"`
}

// ViewRequest asks for the content of a view (spec: ViewRequest).
type ViewRequest struct {
	RequestDetails
	Name string `json:"name,omitempty"`
	Key  string `json:"key,omitempty"`
}

// Order describes a purchase (spec: Order).
type Order struct {
	ID                  string   `json:"id,omitempty"`
	Total               *float64 `json:"total,omitempty"`
	PurchasedProductIDs []string `json:"purchasedProductIds,omitempty"`
	Time                string   `json:"time,omitempty"`
	ExperienceLocalID   *int32   `json:"experienceLocalId,omitempty"`
	Duplicate           *bool    `json:"duplicate,omitempty"`
	Outlier             *bool    `json:"outlier,omitempty"`
}

// ABTOrder is the order shape of the spec's ABTOrder component (an order with
// a decision stack and numeric product ids). The Delivery request does not
// reference it; it is modelled for completeness.
type ABTOrder struct {
	ID              string   `json:"id,omitempty"`
	DecisionStackID *int64   `json:"decisionStackId,omitempty"`
	Total           *float64 `json:"total,omitempty"`
	Time            string   `json:"time,omitempty"`
	ProductIDs      []int64  `json:"productIds,omitempty"`
}

// Product describes a viewed product (spec: Product).
type Product struct {
	ID         string `json:"id,omitempty"`
	CategoryID string `json:"categoryId,omitempty"`
}

// Telemetry carries SDK timings for earlier requests (spec: Telemetry).
type Telemetry struct {
	Entries []TelemetryEntry `json:"entries,omitempty"`
}

// TelemetryEntry is the timing of one earlier request (spec: TelemetryEntry).
// Durations are milliseconds.
type TelemetryEntry struct {
	RequestID            string             `json:"requestId,omitempty"`
	Timestamp            int64              `json:"timestamp,omitempty"`
	Mode                 ExecutionMode      `json:"mode,omitempty"`
	Execution            float64            `json:"execution,omitempty"`
	Parsing              float64            `json:"parsing,omitempty"`
	Features             *TelemetryFeatures `json:"features,omitempty"`
	Request              *TelemetryRequest  `json:"request,omitempty"`
	TelemetryServerToken string             `json:"telemetryServerToken,omitempty"`
}

// TelemetryFeatures describes what an earlier request asked for (spec:
// TelemetryFeatures).
type TelemetryFeatures struct {
	DecisioningMethod DecisioningMethod `json:"decisioningMethod,omitempty"`
	ExecuteMboxCount  int               `json:"executeMboxCount,omitempty"`
	ExecutePageLoad   bool              `json:"executePageLoad,omitempty"`
	PrefetchMboxCount int               `json:"prefetchMboxCount,omitempty"`
	PrefetchPageLoad  bool              `json:"prefetchPageLoad,omitempty"`
	PrefetchViewCount int               `json:"prefetchViewCount,omitempty"`
}

// TelemetryRequest holds the network timings of an earlier request, in
// milliseconds (spec: TelemetryRequest).
type TelemetryRequest struct {
	DNS             float64 `json:"dns,omitempty"`
	TLS             float64 `json:"tls,omitempty"`
	TimeToFirstByte float64 `json:"timeToFirstByte,omitempty"`
	Download        float64 `json:"download,omitempty"`
	ResponseSize    int64   `json:"responseSize,omitempty"`
}

// Notification reports that prefetched content was displayed or clicked
// (spec: Notification). ID, Type and Timestamp (epoch milliseconds) are
// required; Mbox, View and PageLoad are mutually exclusive.
type Notification struct {
	RequestDetails
	ID           string                `json:"id"`
	ImpressionID string                `json:"impressionId,omitempty"`
	Type         MetricType            `json:"type"`
	Timestamp    int64                 `json:"timestamp"`
	Tokens       []string              `json:"tokens,omitempty"`
	Mbox         *NotificationMbox     `json:"mbox,omitempty"`
	View         *NotificationView     `json:"view,omitempty"`
	PageLoad     *NotificationPageLoad `json:"pageLoad,omitempty"`
}

// NotificationMbox names the mbox a notification is for (spec:
// NotificationMbox).
type NotificationMbox struct {
	Name  string `json:"name,omitempty"`
	State string `json:"state,omitempty"`
}

// NotificationView names the view a notification is for (spec:
// NotificationView).
type NotificationView struct {
	Name  string `json:"name,omitempty"`
	Key   string `json:"key,omitempty"`
	State string `json:"state,omitempty"`
}

// NotificationPageLoad marks a page-load notification (spec:
// NotificationPageLoad).
type NotificationPageLoad struct {
	State string `json:"state,omitempty"`
}

// ExecuteResponse holds the decisions for an ExecuteRequest (spec:
// ExecuteResponse). Here and in the other responses, a list of decisions
// or options is left out of the JSON when nil and written as [] when empty
// but not nil: on-device decisions answer [] where Adobe's engines do.
type ExecuteResponse struct {
	PageLoad *PageLoadResponse `json:"pageLoad,omitempty"`
	Mboxes   []MboxResponse    `json:"mboxes,omitzero"`
}

// PrefetchResponse holds the prefetched content for a PrefetchRequest (spec:
// PrefetchResponse).
type PrefetchResponse struct {
	Views    []View                 `json:"views,omitzero"`
	PageLoad *PageLoadResponse      `json:"pageLoad,omitempty"`
	Mboxes   []PrefetchMboxResponse `json:"mboxes,omitzero"`
	Metrics  []Metric               `json:"metrics,omitempty"`
}

// PageLoadResponse holds the page-load options and metrics (spec:
// PageLoadResponse).
type PageLoadResponse struct {
	Options   []Option           `json:"options,omitzero"`
	Metrics   []Metric           `json:"metrics,omitempty"`
	Analytics *AnalyticsResponse `json:"analytics,omitempty"`
	State     string             `json:"state,omitempty"`
	Trace     map[string]any     `json:"trace,omitempty"`
}

// MboxResponse is the decision for one mbox; Index matches the request's
// (spec: MboxResponse).
type MboxResponse struct {
	Index     int                `json:"index"`
	Name      string             `json:"name,omitempty"`
	Options   []Option           `json:"options,omitzero"`
	Metrics   []Metric           `json:"metrics,omitempty"`
	Analytics *AnalyticsResponse `json:"analytics,omitempty"`
	Trace     map[string]any     `json:"trace,omitempty"`
}

// PrefetchMboxResponse is a prefetched mbox decision (spec:
// PrefetchMboxResponse).
type PrefetchMboxResponse struct {
	MboxResponse
	State string `json:"state,omitempty"`
}

// View holds the prefetched options of a view (spec: View). Metrics is left
// out of the JSON when nil, and written as [] when empty but not nil, as
// on-device decisions answer a view without metrics.
type View struct {
	// ID is not in the spec's View schema but appears in the spec's own
	// examples; it is kept so that such answers round-trip.
	ID        *int64             `json:"id,omitempty"`
	Name      string             `json:"name,omitempty"`
	Key       string             `json:"key,omitempty"`
	Options   []Option           `json:"options,omitzero"`
	Metrics   []Metric           `json:"metrics,omitzero"`
	Analytics *AnalyticsResponse `json:"analytics,omitempty"`
	State     string             `json:"state,omitempty"`
	Trace     map[string]any     `json:"trace,omitempty"`
}

// Option is one piece of content chosen for an mbox, view or page load (spec:
// Option). Content is kept as raw JSON because its shape depends on Type: a
// JSON string for html and redirect, an object for json, an array of actions
// for actions.
type Option struct {
	Type           OptionType      `json:"type,omitempty"`
	Content        json.RawMessage `json:"content,omitempty"`
	EventToken     string          `json:"eventToken,omitempty"`
	ResponseTokens map[string]any  `json:"responseTokens,omitempty"`
}

// Action is one step of an actions option's content (spec: Option's Action).
type Action struct {
	Type        string          `json:"type,omitempty"`
	Selector    string          `json:"selector,omitempty"`
	CSSSelector string          `json:"cssSelector,omitempty"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// Metric is a click or display metric with the event token to notify (spec:
// Metric).
type Metric struct {
	Type       MetricType         `json:"type,omitempty"`
	Selector   string             `json:"selector,omitempty"`
	EventToken string             `json:"eventToken,omitempty"`
	Analytics  *AnalyticsResponse `json:"analytics,omitempty"`
}

// AnalyticsResponse carries the Analytics payload for client-side logging
// (spec: AnalyticsResponse).
type AnalyticsResponse struct {
	Payload *AnalyticsPayload `json:"payload,omitempty"`
}

// AnalyticsPayload is the data to forward to Analytics after the content was
// applied (spec: AnalyticsPayload).
type AnalyticsPayload struct {
	PE   string `json:"pe,omitempty"`
	TNTA string `json:"tnta,omitempty"`
}

// NotificationResponse acknowledges one processed notification (spec:
// NotificationResponse).
type NotificationResponse struct {
	ID    string         `json:"id,omitempty"`
	Trace map[string]any `json:"trace,omitempty"`
}

// QAMode runs activities in QA mode (spec: QAMode). The token is a secret.
type QAMode struct {
	Token                      string               `json:"token,omitempty"`
	ListedActivitiesOnly       *bool                `json:"listedActivitiesOnly,omitempty"`
	EvaluateAsTrueAudienceIDs  []int64              `json:"evaluateAsTrueAudienceIds,omitempty"`
	EvaluateAsFalseAudienceIDs []int64              `json:"evaluateAsFalseAudienceIds,omitempty"`
	PreviewIndexes             []QAModePreviewIndex `json:"previewIndexes,omitempty"`
}

// QAModePreviewIndex selects an activity and experience of a QA-mode token,
// both counted from 1 (spec: QAModePreviewIndex).
type QAModePreviewIndex struct {
	ActivityIndex   int `json:"activityIndex,omitempty"`
	ExperienceIndex int `json:"experienceIndex,omitempty"`
}

// Preview enables preview mode (spec: Preview). The token is a secret.
type Preview struct {
	Token string `json:"token,omitempty"`
}

// UnexpectedError is the body of a non-2xx answer (spec: UnexpectedError).
// The client's calls turn it into a *target.APIError.
type UnexpectedError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// DecisioningMethod selects where decisions are made (spec:
// DecisioningMethod). The zero value means ServerSide.
type DecisioningMethod string

// Decisioning methods: ServerSide asks the edge, OnDevice decides from the
// rules artifact, Hybrid decides on-device what the artifact can decide and
// asks the edge otherwise. See package target's documentation.
const (
	ServerSide DecisioningMethod = "server-side"
	OnDevice   DecisioningMethod = "on-device"
	Hybrid     DecisioningMethod = "hybrid"
)

// ContentString returns the content of an html or redirect option (a JSON
// string) decoded, and false when the content is not a JSON string.
func (o Option) ContentString() (string, bool) {
	var s string
	if len(o.Content) == 0 || o.Content[0] != '"' || json.Unmarshal(o.Content, &s) != nil {
		return "", false
	}
	return s, true
}

// Marshal encodes v as the Delivery API's SDKs send it: like json.Marshal,
// but without HTML escaping, so option content and URLs go out byte for
// byte ("<p>", not "\u003cp\u003e").
func Marshal(v any) ([]byte, error) {
	b, err := appendMarshal(nil, v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// appendMarshal appends Marshal's encoding of v to dst, through a pooled
// encoder and buffer: dst's growth is the only allocation.
func appendMarshal(dst []byte, v any) ([]byte, error) {
	e := encoderPool.Get().(*pooledEncoder)
	defer e.put()
	if err := e.enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})...), nil
}

// pooledEncoder is a JSON encoder without HTML escaping, writing to buf.
type pooledEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// maxPooledEncoderBuf keeps an encoder that wrote a large value out of
// the pool, so that the pool does not pin its buffer.
const maxPooledEncoderBuf = 64 << 10

var encoderPool = sync.Pool{New: func() any {
	e := &pooledEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *pooledEncoder) put() {
	if e.buf.Cap() > maxPooledEncoderBuf {
		return
	}
	e.buf.Reset()
	encoderPool.Put(e)
}
