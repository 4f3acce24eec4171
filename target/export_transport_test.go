package target

import "net/http"

// OwnTransport is the transport a Client made for itself (nil when the
// Config brought an HTTPClient), for the tests of its defaults.
func OwnTransport(c *Client) *http.Transport { return c.transport }

// NewSupplementalDataID is exposed for the test of its format.
var NewSupplementalDataID = newSupplementalDataID
