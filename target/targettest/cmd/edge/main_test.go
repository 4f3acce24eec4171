package main_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/target-go/sdk/target"
	"github.com/target-go/sdk/target/targettest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// build compiles the command into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH to build the command:", err)
	}
	bin := filepath.Join(t.TempDir(), "edge")
	out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// start runs the command and returns the URL it prints and a function that
// stops it with SIGTERM and waits for a clean exit.
func start(t *testing.T, bin string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the command prints its URL")
	stop := func() {
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait(), "the command exits cleanly on SIGTERM")
	}
	return strings.TrimSpace(line), stop
}

func TestCommandServes(t *testing.T) {
	t.Parallel()
	bin := build(t)
	dir := t.TempDir()
	offers := filepath.Join(dir, "offers.json")
	require.NoError(t, os.WriteFile(offers, []byte(`{"mboxes":{"hero":{"options":[{"type":"html","content":"<p>Hi</p>"}]}}}`), 0o600))
	certFile := filepath.Join(dir, "edge.pem")

	tests := []struct {
		name string
		args []string
	}{
		{"http", []string{"-addr", "127.0.0.1:0", "-offers", offers, "-no-cluster"}},
		{"https", []string{"-addr", "127.0.0.1:0", "-offers", offers, "-tls", "-cert-out", certFile, "-org", "o@AdobeOrg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, stop := start(t, bin, tt.args...)
			defer stop()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			org := targettest.DefaultOrganizationID
			if tt.name == "https" {
				require.True(t, strings.HasPrefix(base, "https://127.0.0.1:"), base)
				pemBytes, err := os.ReadFile(certFile)
				require.NoError(t, err)
				pool := x509.NewCertPool()
				require.True(t, pool.AppendCertsFromPEM(pemBytes))
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
				org = "o@AdobeOrg"
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
				base+targettest.DeliveryPath+"?sessionId=s&imsOrgId="+org,
				strings.NewReader(`{"context":{"channel":"web"},"execute":{"mboxes":[{"name":"hero","index":1}]}}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var got target.DeliveryResponse
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			require.Len(t, got.Execute.Mboxes, 1)
			assert.JSONEq(t, `"<p>Hi</p>"`, string(got.Execute.Mboxes[0].Options[0].Content))
			if tt.name == "http" {
				assert.Empty(t, got.EdgeHost, "-no-cluster sends no edgeHost")
				assert.NotContains(t, got.ID.TntID, ".")
			} else {
				assert.Equal(t, "mboxedge35.tt.omtrdc.net", got.EdgeHost)
				assert.Equal(t, "HTTP/2.0", resp.Proto, "-tls offers HTTP/2")
			}
		})
	}
}

func TestCommandRejectsBadFlags(t *testing.T) {
	t.Parallel()
	bin := build(t)
	for _, args := range [][]string{
		{"-fault-5xx", "2"},
		{"-cert-out", "x.pem"},
		{"-http1"},
		{"-offers", "/does/not/exist.json"},
		{"-latency-p99", "1s"},
		{"extra"},
	} {
		out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%v: %s", args, out)
		assert.Equal(t, 2, exit.ExitCode())
		assert.Contains(t, string(out), "edge:", "%v", args)
	}
}
