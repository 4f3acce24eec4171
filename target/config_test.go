package target_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/target-go/sdk/target"
)

func TestNewClientValidation(t *testing.T) {
	t.Parallel()
	valid := func() target.Config {
		return target.Config{Client: "acme", OrganizationID: "ORG@AdobeOrg"}
	}
	tests := []struct {
		name  string
		edit  func(*target.Config)
		field string // "" = valid
	}{
		{"minimal", func(*target.Config) {}, ""},
		{"everything", func(c *target.Config) {
			c.Timeout = time.Second
			c.ServerDomain = "localhost:8080"
			c.LocationHint = "35"
			c.EnvironmentID = 4
			c.Retry = target.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Second}
			c.DecisioningMethod = target.Hybrid
			c.OnDevice = target.OnDeviceConfig{
				ArtifactPayload: []byte(`{"version":"1.0.0","rules":{"mboxes":{},"views":{}}}`),
				Environment:     "staging",
				PollingInterval: -1,
			}
		}, ""},
		{"server domain host only", func(c *target.Config) { c.ServerDomain = "edge.example.com" }, ""},
		{"server domain ipv6", func(c *target.Config) { c.ServerDomain = "[::1]:8080" }, ""},
		{"no client", func(c *target.Config) { c.Client = "" }, "Client"},
		{"client with dot", func(c *target.Config) { c.Client = "a.b" }, "Client"},
		{"client with slash", func(c *target.Config) { c.Client = "a/b" }, "Client"},
		{"no org", func(c *target.Config) { c.OrganizationID = " " }, "OrganizationID"},
		{"org with space", func(c *target.Config) { c.OrganizationID = "a b" }, "OrganizationID"},
		{"negative timeout", func(c *target.Config) { c.Timeout = -1 }, "Timeout"},
		{"bad hint", func(c *target.Config) { c.LocationHint = "3.5" }, "LocationHint"},
		{"negative env", func(c *target.Config) { c.EnvironmentID = -1 }, "EnvironmentID"},
		{"negative attempts", func(c *target.Config) { c.Retry.MaxAttempts = -1 }, "Retry.MaxAttempts"},
		{"negative min backoff", func(c *target.Config) { c.Retry.MinBackoff = -1 }, "Retry.MinBackoff"},
		{"negative max backoff", func(c *target.Config) { c.Retry.MaxBackoff = -1 }, "Retry.MaxBackoff"},
		{"max below min", func(c *target.Config) { c.Retry.MinBackoff = time.Second; c.Retry.MaxBackoff = time.Millisecond }, "Retry.MaxBackoff"},
		{"bad method", func(c *target.Config) { c.DecisioningMethod = "local" }, "DecisioningMethod"},
		{"domain with scheme", func(c *target.Config) { c.ServerDomain = "https://x.com" }, "ServerDomain"},
		{"domain with path", func(c *target.Config) { c.ServerDomain = "x.com/rest" }, "ServerDomain"},
		{"domain bad port", func(c *target.Config) { c.ServerDomain = "x.com:99999" }, "ServerDomain"},
		{"domain no host", func(c *target.Config) { c.ServerDomain = ":80" }, "ServerDomain"},
		{"domain with CRLF", func(c *target.Config) { c.ServerDomain = "x.com\r\nX-Evil: 1" }, "ServerDomain"},
		{"domain with NUL", func(c *target.Config) { c.ServerDomain = "x.com\x00" }, "ServerDomain"},
		{"domain with percent", func(c *target.Config) { c.ServerDomain = "x%2ecom" }, "ServerDomain"},
		{"domain ipv6 zone", func(c *target.Config) { c.ServerDomain = "[fe80::1%eth0]" }, "ServerDomain"},
		{"domain ipv6 zone port", func(c *target.Config) { c.ServerDomain = "[fe80::1%eth0]:443" }, "ServerDomain"},
		{"domain ipv6 zone escaped", func(c *target.Config) { c.ServerDomain = "[fe80::1%25eth0]:443" }, "ServerDomain"},
		{"domain ipv4 bracketed", func(c *target.Config) { c.ServerDomain = "[1.2.3.4]" }, "ServerDomain"},
		{"domain ipv4 bracketed port", func(c *target.Config) { c.ServerDomain = "[1.2.3.4]:443" }, "ServerDomain"},
		{"domain name bracketed", func(c *target.Config) { c.ServerDomain = "[edge.example.com]" }, "ServerDomain"},
		{"server domain ipv6 no port", func(c *target.Config) { c.ServerDomain = "[::1]" }, ""},
		{"server domain ipv4 mapped", func(c *target.Config) { c.ServerDomain = "[::ffff:1.2.3.4]:8080" }, ""},
		{"server domain ipv4", func(c *target.Config) { c.ServerDomain = "1.2.3.4:8080" }, ""},
		{"domain with backslash", func(c *target.Config) { c.ServerDomain = "x.com\\y" }, "ServerDomain"},
		{"domain empty label", func(c *target.Config) { c.ServerDomain = "x..com" }, "ServerDomain"},
		{"domain bad ipv6", func(c *target.Config) { c.ServerDomain = "[::zz]:80" }, "ServerDomain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.edit(&cfg)
			c, err := target.NewClient(cfg)
			if tt.field == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				_ = c.Close(context.Background())
				return
			}
			require.Error(t, err)
			assert.Nil(t, c)
			var ce *target.ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %T", err)
			assert.Equal(t, tt.field, ce.Field)
			assert.ErrorIs(t, err, target.ErrInvalidConfig)
			assert.Contains(t, err.Error(), "Config."+tt.field)
		})
	}
}
