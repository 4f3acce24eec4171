package target

import "github.com/target-go/sdk/target/delivery"

// The Delivery API models live in package delivery, so that the on-device
// engine and the local edge share them without importing the client; the
// aliases keep target.X the one name users write, with nothing converted at
// the boundary (an alias is the same type). DeliveryRequest and
// DeliveryResponse are delivery.Request and delivery.Response; every other
// model keeps its name.

// Delivery API models; see package delivery for each one's fields.
type (
	// ChannelType is delivery.ChannelType.
	ChannelType = delivery.ChannelType
	// DeviceType is delivery.DeviceType.
	DeviceType = delivery.DeviceType
	// MobilePlatformType is delivery.MobilePlatformType.
	MobilePlatformType = delivery.MobilePlatformType
	// ScreenOrientationType is delivery.ScreenOrientationType.
	ScreenOrientationType = delivery.ScreenOrientationType
	// LoggingType is delivery.LoggingType.
	LoggingType = delivery.LoggingType
	// MetricType is delivery.MetricType.
	MetricType = delivery.MetricType
	// OptionType is delivery.OptionType.
	OptionType = delivery.OptionType
	// ExecutionMode is delivery.ExecutionMode.
	ExecutionMode = delivery.ExecutionMode
	// AuthenticatedState is delivery.AuthenticatedState.
	AuthenticatedState = delivery.AuthenticatedState
	// DeliveryRequest is delivery.Request.
	DeliveryRequest = delivery.Request
	// DeliveryResponse is delivery.Response.
	DeliveryResponse = delivery.Response
	// Context is delivery.Context.
	Context = delivery.Context
	// MobilePlatform is delivery.MobilePlatform.
	MobilePlatform = delivery.MobilePlatform
	// Application is delivery.Application.
	Application = delivery.Application
	// Screen is delivery.Screen.
	Screen = delivery.Screen
	// Window is delivery.Window.
	Window = delivery.Window
	// Browser is delivery.Browser.
	Browser = delivery.Browser
	// Address is delivery.Address.
	Address = delivery.Address
	// Geo is delivery.Geo.
	Geo = delivery.Geo
	// ClientHints is delivery.ClientHints.
	ClientHints = delivery.ClientHints
	// VisitorID is delivery.VisitorID.
	VisitorID = delivery.VisitorID
	// CustomerID is delivery.CustomerID.
	CustomerID = delivery.CustomerID
	// Property is delivery.Property.
	Property = delivery.Property
	// Trace is delivery.Trace.
	Trace = delivery.Trace
	// ExperienceCloud is delivery.ExperienceCloud.
	ExperienceCloud = delivery.ExperienceCloud
	// AudienceManager is delivery.AudienceManager.
	AudienceManager = delivery.AudienceManager
	// AnalyticsRequest is delivery.AnalyticsRequest.
	AnalyticsRequest = delivery.AnalyticsRequest
	// ExecuteRequest is delivery.ExecuteRequest.
	ExecuteRequest = delivery.ExecuteRequest
	// PrefetchRequest is delivery.PrefetchRequest.
	PrefetchRequest = delivery.PrefetchRequest
	// RequestDetails is delivery.RequestDetails.
	RequestDetails = delivery.RequestDetails
	// MboxRequest is delivery.MboxRequest.
	MboxRequest = delivery.MboxRequest
	// ViewRequest is delivery.ViewRequest.
	ViewRequest = delivery.ViewRequest
	// Order is delivery.Order.
	Order = delivery.Order
	// ABTOrder is delivery.ABTOrder.
	ABTOrder = delivery.ABTOrder
	// Product is delivery.Product.
	Product = delivery.Product
	// Telemetry is delivery.Telemetry.
	Telemetry = delivery.Telemetry
	// TelemetryEntry is delivery.TelemetryEntry.
	TelemetryEntry = delivery.TelemetryEntry
	// TelemetryFeatures is delivery.TelemetryFeatures.
	TelemetryFeatures = delivery.TelemetryFeatures
	// TelemetryRequest is delivery.TelemetryRequest.
	TelemetryRequest = delivery.TelemetryRequest
	// Notification is delivery.Notification.
	Notification = delivery.Notification
	// NotificationMbox is delivery.NotificationMbox.
	NotificationMbox = delivery.NotificationMbox
	// NotificationView is delivery.NotificationView.
	NotificationView = delivery.NotificationView
	// NotificationPageLoad is delivery.NotificationPageLoad.
	NotificationPageLoad = delivery.NotificationPageLoad
	// ExecuteResponse is delivery.ExecuteResponse.
	ExecuteResponse = delivery.ExecuteResponse
	// PrefetchResponse is delivery.PrefetchResponse.
	PrefetchResponse = delivery.PrefetchResponse
	// PageLoadResponse is delivery.PageLoadResponse.
	PageLoadResponse = delivery.PageLoadResponse
	// MboxResponse is delivery.MboxResponse.
	MboxResponse = delivery.MboxResponse
	// PrefetchMboxResponse is delivery.PrefetchMboxResponse.
	PrefetchMboxResponse = delivery.PrefetchMboxResponse
	// View is delivery.View.
	View = delivery.View
	// Option is delivery.Option.
	Option = delivery.Option
	// Action is delivery.Action.
	Action = delivery.Action
	// Metric is delivery.Metric.
	Metric = delivery.Metric
	// AnalyticsResponse is delivery.AnalyticsResponse.
	AnalyticsResponse = delivery.AnalyticsResponse
	// AnalyticsPayload is delivery.AnalyticsPayload.
	AnalyticsPayload = delivery.AnalyticsPayload
	// NotificationResponse is delivery.NotificationResponse.
	NotificationResponse = delivery.NotificationResponse
	// QAMode is delivery.QAMode.
	QAMode = delivery.QAMode
	// QAModePreviewIndex is delivery.QAModePreviewIndex.
	QAModePreviewIndex = delivery.QAModePreviewIndex
	// Preview is delivery.Preview.
	Preview = delivery.Preview
	// UnexpectedError is delivery.UnexpectedError.
	UnexpectedError = delivery.UnexpectedError
	// DecisioningMethod is delivery.DecisioningMethod: where Config and
	// each call's options have decisions made; the zero value means
	// ServerSide.
	DecisioningMethod = delivery.DecisioningMethod
)

// Channels the edge accepts.
const (
	ChannelWeb    = delivery.ChannelWeb
	ChannelMobile = delivery.ChannelMobile
)

// Device types the edge accepts.
const (
	DeviceTypePhone  = delivery.DeviceTypePhone
	DeviceTypeTablet = delivery.DeviceTypeTablet
)

// Mobile platforms the edge accepts.
const (
	MobilePlatformAndroid = delivery.MobilePlatformAndroid
	MobilePlatformIOS     = delivery.MobilePlatformIOS
)

// Screen orientations the edge accepts.
const (
	ScreenOrientationPortrait  = delivery.ScreenOrientationPortrait
	ScreenOrientationLandscape = delivery.ScreenOrientationLandscape
)

// Analytics logging modes.
const (
	LoggingServerSide = delivery.LoggingServerSide
	LoggingClientSide = delivery.LoggingClientSide
)

// Metric and notification types.
const (
	MetricTypeClick   = delivery.MetricTypeClick
	MetricTypeDisplay = delivery.MetricTypeDisplay
)

// Option content types.
const (
	OptionTypeHTML     = delivery.OptionTypeHTML
	OptionTypeJSON     = delivery.OptionTypeJSON
	OptionTypeRedirect = delivery.OptionTypeRedirect
	OptionTypeDynamic  = delivery.OptionTypeDynamic
	OptionTypeActions  = delivery.OptionTypeActions
)

// Execution modes reported in telemetry.
const (
	ExecutionModeEdge  = delivery.ExecutionModeEdge
	ExecutionModeLocal = delivery.ExecutionModeLocal
)

// Authentication states of a customer id.
const (
	AuthenticatedStateUnknown       = delivery.AuthenticatedStateUnknown
	AuthenticatedStateAuthenticated = delivery.AuthenticatedStateAuthenticated
	AuthenticatedStateLoggedOut     = delivery.AuthenticatedStateLoggedOut
)

// Decisioning methods: ServerSide asks the edge, OnDevice decides from the
// rules artifact, Hybrid decides on-device what the artifact can decide and
// asks the edge otherwise. See the package documentation.
const (
	ServerSide = delivery.ServerSide
	OnDevice   = delivery.OnDevice
	Hybrid     = delivery.Hybrid
)
